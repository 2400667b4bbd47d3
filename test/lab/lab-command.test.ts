import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNamespaces } from '../../src/lab/netns/network.js';
import { STUB_RELAY_PROGRAM } from '../../src/lab/stub-relay/stub-server.js';
import { CLI as cli, cliEnvironment, REPO_ROOT, runCli } from '../helpers/cli.js';
import { AS_NOBODY, createReadableCopy } from '../helpers/readable-copy.js';
import { isRoot, NOT_ROOT_REASON } from '../helpers/root.js';

const root = REPO_ROOT;
const hasIp = spawnSync('ip', ['-V']).status === 0;
const built = existsSync(join(root, 'dist', 'cli', 'main.js')) && existsSync(join(root, STUB_RELAY_PROGRAM));
const skipReason = !isRoot
  ? NOT_ROOT_REASON
  : !hasIp
    ? 'needs iproute2 (ip netns)'
    : !built
      ? 'dist/ is missing: run `npm run build` first'
      : undefined;
const skipped = skipReason === undefined ? '' : ` — skipped: ${skipReason}`;

/**
 * A lab prefix of this test's own (`lab --prefix`): other people's labs on the machine — other test runs,
 * other operators — come and go meanwhile, so every check looks at its own prefix only.
 */
function ownPrefix(): string {
  return `rslab_t${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
}

/** How many namespaces of the lab exist now, read from /run/netns (cheaper than `ip netns list`). */
function namespacesNamed(prefix: string): number {
  if (!existsSync('/run/netns')) return 0;
  return readdirSync('/run/netns').filter((name) => name.startsWith(`${prefix}-`)).length;
}

/** Stub relays whose command line mentions the run's prefix (their log files live in its directory). */
function stubProcessesOf(prefix: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (command.includes(STUB_RELAY_PROGRAM) && command.includes(prefix)) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/**
 * `lab branch-office --verbose` started for a test to signal: `printed` waits until what it has printed on
 * stderr so far matches (fails after 30 s, with that stderr).
 */
function startBranchOfficeLab() {
  const child = spawn(process.execPath, [cli, 'lab', 'branch-office', '--verbose'], {
    env: cliEnvironment(),
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  let heard = (): void => {};
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    heard();
  });
  const printed = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never printed ${pattern}; stderr: ${stderr}`)), 30_000);
      heard = (): void => {
        const found = pattern.exec(stderr);
        if (found === null) return;
        clearTimeout(timer);
        heard = () => {};
        resolve(found);
      };
      heard();
    });
  return { child, exited, printed, stderr: (): string => stderr };
}

describe.skipIf(skipReason !== undefined)(`relay-select lab: invalid topologies${skipped}`, () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'lab-invalid-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  const valid = {
    routers: ['r1', 'r2'],
    endpoint: { attach: 'r1' },
    links: [{ from: 'r1', to: 'r2' }],
    relays: [{ name: 'relay-a', attach: 'r2' }],
  };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'unknown router in a link',
      {
        ...valid,
        links: [
          { from: 'r1', to: 'r2' },
          { from: 'r2', to: 'r9' },
        ],
      },
      /: links\[1\]\.to: unknown router "r9"/,
    ],
    [
      'duplicate names',
      {
        ...valid,
        relays: [
          { name: 'relay-a', attach: 'r2' },
          { name: 'relay-a', attach: 'r1' },
        ],
      },
      /: relays\[1\]\.name: duplicate name "relay-a"/,
    ],
    [
      'a cycle with no route',
      {
        ...valid,
        routers: ['r1', 'r2', 'c1', 'c2', 'c3'],
        links: [
          { from: 'r1', to: 'r2' },
          { from: 'c1', to: 'c2' },
          { from: 'c2', to: 'c3' },
          { from: 'c3', to: 'c1' },
        ],
      },
      /: routers\[2\]: router "c1" is not reachable from the endpoint .*cycle/,
    ],
    [
      'bad delay',
      { ...valid, links: [{ from: 'r1', to: 'r2', delayMs: -5 }] },
      /: links\[0\]\.delayMs: -5 is out of range/,
    ],
    [
      'delay not a number',
      { ...valid, links: [{ from: 'r1', to: 'r2', delayMs: 'slow' }] },
      /: links\[0\]\.delayMs: expected a number/,
    ],
    ['unknown key', { ...valid, colour: 'blue' }, /: colour: unknown key/],
  ];

  it.each(cases)(
    '%s: exit 65, one line naming file and field, no namespace created',
    async (name, topology, message) => {
      const file = join(directory, `${name.replaceAll(' ', '-')}.json`);
      writeFileSync(file, JSON.stringify(topology));
      const prefix = ownPrefix();
      const result = await runCli(['lab', file, '--prefix', prefix]);
      expect(result.code).toBe(65);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(file);
      expect(lines[0]).toMatch(message);
      expect(listNamespaces(prefix)).toEqual([]);
    },
  );

  it.each(['lab_x', 'rslab_', 'rslab_UPPER', 'rslab_a-b', 'rslab_12345678901'])(
    '--prefix %s: exit 64, one line saying what a prefix looks like',
    async (prefix) => {
      const result = await runCli(['lab', 'branch-office', '--prefix', prefix]);
      expect(result.code).toBe(64);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/expected rslab_ and 1 to 10 lowercase letters or digits/);
    },
  );
});

describe('relay-select lab as non-root', () => {
  it('exits 77 and says why, before building anything', async (context) => {
    // As nobody, from a copy that user can read wherever the checkout lives (a clone under /root is 0700).
    const copy = createReadableCopy();
    if ('reason' in copy) return context.skip(copy.reason);
    try {
      const prefix = ownPrefix();
      const result = await runCli(['lab', '--prefix', prefix], { prefix: AS_NOBODY, cli: copy.cli, cwd: '/' });
      expect(result.code, result.stderr).toBe(77);
      expect(result.stderr).toMatch(/lab needs root.*uid 65534/);
      expect(listNamespaces(prefix)).toEqual([]);
    } finally {
      copy.remove();
    }
  });
});

describe.skipIf(skipReason !== undefined)(`relay-select lab on the sample topologies${skipped}`, () => {
  it.each(['branch-office', 'internet-dmz', 'server-outage', 'relay-full'])(
    '%s: chooses the expected relay and leaves no namespace behind',
    async (sample) => {
      const topology = JSON.parse(readFileSync(join(root, 'relay-samples', 'labs', `${sample}.json`), 'utf8')) as {
        expect: string;
      };
      const result = await runCli(['lab', sample, '--json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as {
        prefix: string;
        chosen: string;
        expected: string;
        relays: { name: string; distance: number | null; expectedDistance: number; method: string }[];
        registration: { relay: string; status: number } | null;
        registrations: { relay: string; status: number }[];
        packets: { icmpEchoRequests: number };
        nextRun: { action: string; packets: { icmpEchoRequests: number } };
      };
      expect(report.chosen).toBe(topology.expect);
      expect(report.registration?.relay).toBe(topology.expect);
      expect(report.packets.icmpEchoRequests).toBeGreaterThan(0);
      // The next cron run keeps the relay without probing: no ICMP storm, also while the server is down.
      expect(report.nextRun).toMatchObject({ action: 'kept', packets: { icmpEchoRequests: 0 } });
      if (sample === 'server-outage') expect(report.registration?.status).toBe(503);
      // The nearest relay is full: asked once, 429, and the next one registered in the same run.
      if (sample === 'relay-full')
        expect(report.registrations.map((entry) => [entry.relay, entry.status])).toEqual([
          ['relay-site', 429],
          ['relay-dc', 200],
        ]);
      expect(report.expected).toBe(topology.expect);
      const chosen = report.relays.find((relay) => relay.name === report.chosen)!;
      if (chosen.method !== 'tcp') expect(chosen.distance).toBe(chosen.expectedDistance);
      expect(report.prefix).toMatch(/^rslab_/);
      expect(listNamespaces(report.prefix)).toEqual([]);
      expect(stubProcessesOf(report.prefix)).toEqual([]);
    },
  );

  it('--compare runs every strategy on the same lab and reports packets, wall time and the choice of each', async () => {
    const result = await runCli(['lab', 'server-outage', '--compare', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      prefix: string;
      compare: {
        strategy: string;
        chosen: string;
        wallMs: number;
        packets: { icmpEchoRequests: number; source: string };
      }[];
    };
    expect(report.compare.map((run) => run.strategy)).toEqual(['inference', 'rounds']);
    for (const run of report.compare) {
      expect(run.chosen).toBe('relay-site');
      expect(run.packets.source).toBe('namespace-counters');
      expect(run.packets.icmpEchoRequests).toBeGreaterThan(0);
      expect(run.wallMs).toBeGreaterThan(0);
    }
    expect(listNamespaces(report.prefix)).toEqual([]);
  });

  it('--keep leaves the lab up with its stubs, and "lab down --prefix" removes exactly that, and only that', async () => {
    const prefix = ownPrefix();
    const kept = await runCli(['lab', 'branch-office', '--keep', '--prefix', prefix, '--json']);
    expect(kept.code, kept.stderr).toBe(0);
    const report = JSON.parse(kept.stdout) as {
      prefix: string;
      namespaces: number;
      kept: { enter: string; down: string };
      linkShapingDropped: boolean;
      warnings: string[];
    };
    try {
      expect(report.prefix).toBe(prefix);
      expect(report.kept.enter).toMatch(new RegExp(`^ip netns exec ${prefix}-endpoint bash$`));
      expect(report.kept.down).toBe(`relay-select lab down --prefix ${prefix}`);
      // A second lab with the same prefix is refused while the first is up.
      const twice = await runCli(['lab', 'branch-office', '--prefix', prefix]);
      expect(twice.code).toBe(64);
      expect(twice.stderr).toMatch(
        new RegExp(
          `--prefix ${prefix}: a lab with this prefix is up — remove it first: relay-select lab down --prefix ${prefix}`,
        ),
      );
      expect(listNamespaces(report.prefix)).toHaveLength(report.namespaces);
      expect(stubProcessesOf(report.prefix)).toHaveLength(3);
      // Never a silent drop: without netem the kept lab has no delay, and says so.
      if (report.linkShapingDropped) expect(report.warnings.join(' ')).toMatch(/without link delay/);
    } finally {
      const down = await runCli(['lab', 'down', '--prefix', prefix, '--json']);
      expect(down.code).toBe(0);
      const { removed } = JSON.parse(down.stdout) as {
        removed: { prefix: string; namespaces: string[]; killed: number[] }[];
      };
      expect(removed.map((lab) => lab.prefix)).toEqual([prefix]);
      expect(removed[0]?.namespaces).toHaveLength(report.namespaces);
      expect(removed[0]?.killed).toHaveLength(3);
    }
    const again = await runCli(['lab', 'down', '--prefix', prefix]);
    expect(again.stdout.trim()).toBe(`no lab with prefix ${prefix} is up`);
    expect(listNamespaces(report.prefix)).toEqual([]);
    expect(stubProcessesOf(report.prefix)).toEqual([]);
  });

  it('a relay that requires a client certificate fails registration, and the next-ranked relay is chosen over https', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lab-mtls-'));
    try {
      const file = join(directory, 'mtls.json');
      writeFileSync(
        file,
        JSON.stringify({
          routers: ['r1', 'r2', 'r3'],
          endpoint: { attach: 'r1' },
          links: [
            { from: 'r1', to: 'r2' },
            { from: 'r2', to: 'r3' },
          ],
          relays: [
            { name: 'relay-mtls', attach: 'r1', registration: 'client-cert-required' },
            { name: 'relay-open', attach: 'r3' },
          ],
          settings: { probe: { timeoutMs: 500 } },
          expect: 'relay-open',
        }),
      );
      const result = await runCli(['lab', file, '--json']);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as {
        prefix: string;
        chosen: string;
        registration: { relay: string; status: number } | null;
        relays: { name: string; distance: number | null }[];
      };
      expect(report.relays.map((relay) => [relay.name, relay.distance])).toEqual([
        ['relay-mtls', 1],
        ['relay-open', 3],
      ]);
      expect(report.chosen).toBe('relay-open');
      expect(report.registration).toMatchObject({ relay: 'relay-open', status: 200 });
      expect(listNamespaces(report.prefix)).toEqual([]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('SIGINT midway removes every namespace of the run and every stub relay', async () => {
    const lab = startBranchOfficeLab();
    // printed() fails the test when the lab never names its prefix.
    const prefix = (await lab.printed(/prefix (rslab_[a-z0-9]+)/))[1]!;
    await lab.printed(/probing/);
    const namespacesSeen = listNamespaces(prefix).length;
    expect(stubProcessesOf(prefix).length).toBeGreaterThan(0);
    lab.child.kill('SIGINT');
    const { code, signal } = await lab.exited;
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(namespacesSeen).toBe(9);
    expect(listNamespaces(prefix)).toEqual([]);
    expect(stubProcessesOf(prefix)).toEqual([]);
  });

  // Each signal lands at a point the lab reports or that can be seen on the machine, never after a delay:
  // on a fast machine the whole lab is over within a second of its first line.
  it.each([
    ['SIGINT', 'as the lab starts building', 130],
    ['SIGINT', 'once its namespaces exist (links still to make)', 130],
    ['SIGTERM', 'while stub relays start', 143],
    ['SIGTERM', 'while probing', 143],
  ] as const)('%s %s: %i within a second, nothing left behind', async (signalName, moment, status) => {
    const lab = startBranchOfficeLab();
    let exitedYet = false;
    void lab.exited.then(() => (exitedYet = true));
    const prefix = (await lab.printed(/prefix (rslab_[a-z0-9]+)/))[1]!;
    if (moment === 'once its namespaces exist (links still to make)') {
      // The lab adds its namespaces in one batch, then links them, and says nothing between; so look.
      while (namespacesNamed(prefix) === 0 && !exitedYet) await new Promise((resolve) => setTimeout(resolve, 2));
    } else if (moment === 'while stub relays start') {
      await lab.printed(/starting \d+ stub relays/);
    } else if (moment === 'while probing') {
      await lab.printed(/probing…/);
    }
    const signalledAt = performance.now();
    lab.child.kill(signalName);
    const { code, signal } = await lab.exited;
    const afterSignalMs = performance.now() - signalledAt;
    const stderr = lab.stderr();
    expect({ code, signal }, stderr).toEqual({ code: status, signal: null });
    expect(afterSignalMs).toBeLessThan(1000);
    expect(stderr).toMatch(new RegExp(`relay-select: error: interrupted by ${signalName}`));
    expect(stderr).not.toMatch(/\n\s+at |internal error/);
    expect(listNamespaces(prefix)).toEqual([]);
    expect(stubProcessesOf(prefix)).toEqual([]);
  });
});
