import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// Every bad input of the foundation issue, through the real CLI: one line on stderr naming the file,
// line and column (or the setting), a sysexits status, and never a stack trace.
let dir: string;
const file = (name: string, content: string | Buffer): string => {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
};
const plan = (...args: string[]) => runCli(['plan', '--state-dir', path.join(dir, 'state'), ...args], { cwd: dir });

function expectCleanError(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/RelaySelectError|TypeError|ZodError/);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'relay-select-bad-input-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relay lists that are rejected: exit 65', () => {
  it.each([
    ['empty file', 'empty.dat', '', /empty\.dat:1:1: error: file is empty/],
    ['binary file', 'binary.dat', Buffer.from([0x61, 0x00, 0x01, 0xff]), /binary\.dat:1:\d+: error: file is not text/],
    ['a 10 MB single line', 'long.dat', 'a'.repeat(10_000_000), /long\.dat:1:1: error: line is 10000000 bytes long; expected at most 4096 bytes/],
    ['a JSON list with a wrong type', 'wrong.json', '[{"host": "relay-a", "weight": "heavy"}]', /wrong\.json:1:\d+: error: relay \[0\]: field "weight" is string "heavy"; expected an integer/],
  ])('%s', async (_name, fileName, content, message) => {
    const result = await plan('--relays', file(fileName, content));
    expect(result.code).toBe(65);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expectCleanError(result.stderr);
  });

  it('a relay list that does not exist', async () => {
    const result = await plan('--relays', path.join(dir, 'missing.dat'));
    expect(result.code).toBe(65);
    expect(result.stderr).toMatch(/missing\.dat: relay list not found — create it/);
    expectCleanError(result.stderr);
  });
});

describe('bad lines are skipped with file:line:column, good ones kept: exit 0', () => {
  it.each([
    ['host:70000', 'relay-b.corp.example:70000', /bad\.dat:2:\d+: error: port 70000 is out of range; expected 1\.\.65535/],
    ['weight=-1', 'relay-b.corp.example weight=-1', /bad\.dat:2:\d+: error: weight "-1" is not valid; expected an integer >= 0/],
    ['priority=x', 'relay-b.corp.example priority=x', /bad\.dat:2:\d+: error: priority "x" is not valid; expected an integer >= 0/],
    ['affiliation=a.b', 'relay-b.corp.example affiliation=a.b', /bad\.dat:2:\d+: error: affiliation group "a\.b" is not valid/],
  ])('%s', async (_name, line, message) => {
    const result = await plan('--json', '--relays', file('bad.dat', `relay-a.corp.example\n${line}\n`));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(message);
    const view = JSON.parse(result.stdout) as { pools: { relays: { host: string }[] }[] };
    expect(view.pools.flatMap((pool) => pool.relays.map((relay) => relay.host))).toEqual(['relay-a.corp.example']);
    expectCleanError(result.stderr);
  });

  it('an unknown key is a warning only', async () => {
    const result = await plan('--json', '--relays', file('unknown.dat', 'relay-a.corp.example colour=blue weight=5\n'));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/unknown\.dat:1:\d+: warning: unknown key "colour" ignored/);
    const view = JSON.parse(result.stdout) as { pools: { relays: { weight: number }[] }[] };
    expect(view.pools[0]!.relays[0]!.weight).toBe(5);
  });

  it('a duplicate relay is merged with a warning', async () => {
    const result = await plan('--json', '--relays', file('dup.dat', 'relay-a.corp.example affiliation=HQ\nrelay-b.corp.example\nrelay-a.corp.example affiliation=DMZ\n'));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/dup\.dat:3:\d+: warning: relay relay-a\.corp\.example:52311 \(line 3\) is already defined at line 1/);
    const view = JSON.parse(result.stdout) as { pools: { relays: { host: string; groups: string[] }[] }[] };
    const relays = view.pools.flatMap((pool) => pool.relays);
    expect(relays).toHaveLength(2);
    expect(relays.find((relay) => relay.host === 'relay-a.corp.example')!.groups).toEqual(['hq', 'dmz']);
  });
});

describe('bad settings: exit 78 naming the setting, the value and what is allowed', () => {
  const relays = (): string => file('ok.dat', 'relay-a.corp.example\n');

  it('a config file with a typo in a setting name', async () => {
    const result = await plan('--relays', relays(), '--config', file('typo.json', '{"maximumTTLToPing": 20}'));
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/typo\.json: unknown setting "maximumTTLToPing" \(did you mean "maximumTtlToPing"\?\)/);
    expectCleanError(result.stderr);
  });

  it('a clientsettings.cfg with a non-numeric MaximumTTLToPing', async () => {
    const cfg = file('clientsettings.cfg', '_BESClient_RelaySelect_MaximumTTLToPing=twenty\n');
    const result = await plan('--relays', relays(), '--client-settings', cfg);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/clientsettings\.cfg:1:41: error: _BESClient_RelaySelect_MaximumTTLToPing: "twenty" is not a whole number; expected 1\.\.255/);
    expectCleanError(result.stderr);
  });

  it.each([0, 256])('maximumTtlToPing %i', async (value) => {
    const result = await plan('--relays', relays(), '--config', file(`ttl-${value}.json`, JSON.stringify({ maximumTtlToPing: value })));
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(new RegExp(`ttl-${value}\\.json: maximumTtlToPing: ${value} is out of range; allowed 1\\.\\.255`));
    expectCleanError(result.stderr);
  });

  it('minRetryIntervalSeconds greater than maxRetryIntervalSeconds', async () => {
    const config = file('retry.json', JSON.stringify({ minRetryIntervalSeconds: 900, maxRetryIntervalSeconds: 600 }));
    const result = await plan('--relays', relays(), '--config', config);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/minRetryIntervalSeconds: 900 is greater than maxRetryIntervalSeconds 600/);
    expectCleanError(result.stderr);
  });

  it('an environment variable with a bad value names the variable', async () => {
    const result = await runCli(['plan', '--relays', relays()], { cwd: dir, env: { RELAY_SELECT_PROBE_STRATEGY: 'fastest' } });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/RELAY_SELECT_PROBE_STRATEGY/);
    expect(result.stderr).toMatch(/fastest/);
  });
});

describe('usage errors: exit 64', () => {
  it('an unknown command', async () => {
    const result = await runCli(['selct']);
    expect(result.code).toBe(64);
    expectCleanError(result.stderr);
  });

  it('an unknown option', async () => {
    const result = await runCli(['plan', '--frobnicate']);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/frobnicate/);
  });

  it('--set without KEY=VALUE', async () => {
    const result = await runCli(['plan', '--relays', 'relay-samples/branch-office.dat', '--set', 'probe.timeoutMs']);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/expected KEY=VALUE/);
  });
});
