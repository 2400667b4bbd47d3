import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/cli/command-specs.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const version = (JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string }).version;

describe('bin/relay-select', () => {
  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('--help lists every command and global option from the command metadata', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toContain(`relay-select ${command.name}`);
    for (const option of GLOBAL_OPTIONS) expect(result.stdout).toContain(`--${option.name}`);
  });

  it.each(COMMANDS.map((command) => command.name))('%s --help shows its own options', async (name) => {
    const result = await runCli([name, '--help']);
    expect(result.code).toBe(0);
    for (const option of COMMANDS.find((command) => command.name === name)!.options)
      expect(result.stdout).toContain(`--${option.name}`);
  });

  it('no command is a usage error', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/name a command/);
  });

  it('plan --json on large-1000.dat is one JSON object with pools, relays and budgets', async () => {
    const result = await runCli(['plan', '--relays', 'relay-samples/large-1000.dat', '--json']);
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout) as {
      pools: {
        name: string;
        relays: unknown[];
        budget: { inference: { packets: number }; rounds: { worstCasePackets: number } };
      }[];
      budget: {
        allPoolsRelays: number;
        inference: { firstPoolPackets: number };
        rounds: { firstPoolWorstCasePackets: number; ttls: number[] };
      };
      failover: unknown[];
      rootServer: unknown;
    };
    expect(view.pools.length).toBeGreaterThan(0);
    expect(view.budget.allPoolsRelays).toBe(1000);
    const first = view.pools.find((pool) => pool.relays.length > 0)!;
    // Worst case of the ladder: every relay at every TTL of the ladder.
    expect(view.budget.rounds.firstPoolWorstCasePackets).toBe(first.relays.length * view.budget.rounds.ttls.length);
    expect(view.budget.inference.firstPoolPackets).toBeGreaterThanOrEqual(first.relays.length);
    expect(view.budget.inference.firstPoolPackets).toBeLessThan(view.budget.rounds.firstPoolWorstCasePackets);
    expect(Array.isArray(view.failover)).toBe(true);
    expect(view).toHaveProperty('rootServer');
  });

  it('plan with the README sample config prints the pools in seek-list order', async () => {
    const result = await runCli([
      'plan',
      '--relays',
      'relay-samples/branch-office.dat',
      '--config',
      'relay-samples/.relay-selectrc.json',
    ]);
    expect(result.code).toBe(0);
    const pools = result.stdout.split('\n').flatMap((line) => /^\d+\. pool (\S+)/.exec(line)?.[1] ?? []);
    // The sample's seek list, Branch-Lyon;HQ;*, in that order (group names are shown in lower case).
    expect(pools).toEqual(['branch-lyon', 'hq', '*']);
    expect(result.stdout).toMatch(/Probe budget/);
    expect(result.stdout).not.toContain('\x1b['); // NO_COLOR, not a TTY
  });

  it('status on an empty state directory says no relay yet', async () => {
    const result = await runCli(['status', '--json', '--state-dir', `${REPO_ROOT}/test/cli/.no-such-state`]);
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout) as { relay: unknown; retry: unknown };
    expect(view.relay).toBeNull();
    expect(view.retry).toBeNull();
  });
});
