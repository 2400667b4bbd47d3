/**
 * The shipped systemd units (relay-samples/cron) and sysctl sample: least privilege (a dynamic user without
 * capabilities, probing through ping sockets), rated OK by `systemd-analyze security`, an ExecStart that does
 * not hard-code the npm prefix, and Persistent= only where it applies (OnCalendar timers).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const samples = join(REPO_ROOT, 'relay-samples');
const service = readFileSync(join(samples, 'cron/relay-select.service'), 'utf8');
const agentService = readFileSync(join(samples, 'cron/relay-select-agent.service'), 'utf8');
const sysusers = readFileSync(join(samples, 'cron/relay-select.sysusers'), 'utf8');
const timer = readFileSync(join(samples, 'cron/relay-select.timer'), 'utf8');
const rawDropIn = readFileSync(join(samples, 'cron/raw-sockets.conf'), 'utf8');
const sysctl = readFileSync(join(samples, 'sysctl/60-relay-select-ping.conf'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'relay-select-units-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `Key=value` settings of a unit file, in order (comments and sections left out). */
function settings(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

const offlineAnalysis = spawnSync('systemd-analyze', ['security', '--offline=true', '--help'], { encoding: 'utf8' });
const analyzeReason =
  offlineAnalysis.status === 0 ? undefined : 'skipped: systemd-analyze with --offline (systemd ≥ 250) is not installed';

/** The values a unit file gives `key`, in order. */
function valuesIn(unitText: string): (key: string) => string[] {
  const unit = settings(unitText);
  return (key) => unit.filter(([name]) => name === key).map(([, text]) => text);
}

function exposure(unitText: string, name = 'relay-select.service'): number {
  const directory = mkdtempSync(join(scratch, 'unit-'));
  writeFileSync(join(directory, name), unitText);
  const result = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', name], {
    cwd: directory,
    encoding: 'utf8',
  });
  const match = new RegExp(`Overall exposure level for ${name.replace(/\./g, '\\.')}: ([\\d.]+)`).exec(
    result.stdout + result.stderr,
  );
  if (match === null) throw new Error(`systemd-analyze security said: ${result.stdout}${result.stderr}`);
  return Number(match[1]);
}

/** `systemd-analyze verify` of `units`, with the sample units `files` copied beside them. */
function verify(files: string[], units: string[]): { output: string; status: number | null } {
  const directory = mkdtempSync(join(scratch, 'verify-'));
  for (const name of files) copyFileSync(join(samples, 'cron', name), join(directory, name));
  const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...units], { cwd: directory, encoding: 'utf8' });
  return { output: result.stdout + result.stderr, status: result.status };
}

describe('relay-samples/cron/relay-select.service', () => {
  const value = valuesIn(service);

  it('runs as a dynamic user with no capabilities at all', () => {
    expect(value('DynamicUser')).toEqual(['yes']);
    expect(value('CapabilityBoundingSet')).toEqual(['']);
    expect(value('AmbientCapabilities')).toEqual(['']);
    expect(value('NoNewPrivileges')).toEqual(['yes']);
    expect(value('User')).toEqual([]);
  });

  it('finds relay-select through PATH, not a hard-coded npm prefix', () => {
    expect(value('ExecStart')).toEqual(['/usr/bin/env relay-select run --quiet']);
    expect(value('Environment')).toContain('PATH=/usr/local/bin:/usr/bin:/bin');
  });

  it.skipIf(analyzeReason !== undefined)(
    `is rated 2.0 or lower by systemd-analyze security, and stays OK with the raw-socket drop-in ${analyzeReason ?? ''}`,
    () => {
      const score = exposure(service);
      expect(score).toBeLessThanOrEqual(2);
      const withDropIn = exposure(`${service}\n${rawDropIn}`);
      expect(withDropIn).toBeLessThanOrEqual(2);
      console.info(
        `systemd-analyze security --offline=true: ${score} (ping sockets, no capability), ${withDropIn} (raw-sockets.conf drop-in)`,
      );
    },
  );

  it.skipIf(analyzeReason !== undefined)(
    `passes systemd-analyze verify together with its timer ${analyzeReason ?? ''}`,
    () => {
      const units = ['relay-select.service', 'relay-select.timer'];
      const result = verify(units, units);
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    },
  );
});

describe('relay-samples/cron/relay-select-agent.service', () => {
  const value = valuesIn(agentService);

  it('runs relay-select agent as the user relay-select (dynamic, or the static one of relay-select.sysusers) with no capabilities', () => {
    expect(value('ExecStart')).toEqual(['/usr/bin/env relay-select agent']);
    expect(value('DynamicUser')).toEqual(['yes']);
    expect(value('User')).toEqual(['relay-select']);
    expect(value('CapabilityBoundingSet')).toEqual(['']);
    expect(value('AmbientCapabilities')).toEqual(['']);
    expect(value('StateDirectory')).toEqual(['relay-select']);
    expect(sysusers).toMatch(/^u relay-select - /m);
  });

  it('reloads with SIGHUP, replaces the timer, and does not restart on a configuration error', () => {
    expect(value('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(value('Conflicts')).toEqual(['relay-select.timer']);
    expect(value('RestartPreventExitStatus')).toEqual(['77 78']);
    // Everything the cron service hardens, the agent hardens the same way.
    const hardening = settings(service).filter(([key]) =>
      /^(Protect|Private|Restrict|SystemCall|Lock|Keyring|NoNew|Device|UMask)/.test(key),
    );
    for (const [key, text] of hardening) expect(value(key), key).toContain(text);
  });

  it.skipIf(analyzeReason !== undefined)(
    `is rated 2.0 or lower by systemd-analyze security and passes verify ${analyzeReason ?? ''}`,
    () => {
      const score = exposure(agentService, 'relay-select-agent.service');
      expect(score).toBeLessThanOrEqual(2);
      console.info(`systemd-analyze security --offline=true: relay-select-agent.service ${score}`);
      // Conflicts=relay-select.timer: verify loads the cron units it names.
      const result = verify(
        ['relay-select-agent.service', 'relay-select.service', 'relay-select.timer'],
        ['relay-select-agent.service'],
      );
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    },
  );
});

describe('relay-samples/cron/relay-select.timer', () => {
  it('uses Persistent= only with an OnCalendar= schedule', () => {
    const keys = settings(timer).map(([key]) => key);
    expect(keys).toContain('OnCalendar');
    if (keys.includes('Persistent'))
      expect(keys.filter((key) => /^On(Boot|Startup|Active|UnitActive|UnitInactive)Sec$/.test(key))).toEqual([]);
  });
});

describe('relay-samples/sysctl/60-relay-select-ping.conf', () => {
  it('opens ICMP ping sockets to every group', () => {
    expect(sysctl).toMatch(/^net\.ipv4\.ping_group_range = 0 2147483647$/m);
  });
});
