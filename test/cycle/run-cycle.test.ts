/**
 * runCycle with real parts where they are cheap: real stub relays on loopback addresses (127.0.0.x) that
 * speak the registration protocol over HTTP, a real state directory, a real metrics file read back with an
 * independent Prometheus parser; the hop distances come from the in-memory transport and the network
 * fingerprint from a function the test controls. The namespace tests (test/lab/laptops-e2e.test.ts) run the
 * same behaviours through the real CLI, real routers and the kernel's routes.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/settings.js';
import { runCycle, type RunCycleOptions, type RunReport } from '../../src/cycle/run-cycle.js';
import type { NetworkFingerprint } from '../../src/cycle/state.js';
import { startStubServer, type StubServer, type StubServerOptions } from '../../src/lab/stub-relay/stub-server.js';
import { createMemoryTransport } from '../../src/probe/memory-transport.js';
import { createFakeClock, type FakeClock } from '../helpers/fake-clock.js';
import { isRoot } from '../helpers/root.js';
import { settings as buildSettings, type SettingsOverrides } from '../helpers/settings.js';

let root: string;
const stubs: StubServer[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'relay-select-run-cycle-'));
});
afterEach(async () => {
  await Promise.all(stubs.splice(0).map((stub) => stub.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function stub(address: string, options: Partial<StubServerOptions> = {}): Promise<StubServer> {
  const server = await startStubServer({ host: address, port: 0, mode: 'ok', name: address, ...options });
  stubs.push(server);
  return server;
}

let scenarioCount = 0;
/** A scenario: its own state directory and relay list; relays given as `address:port key=value…` lines. */
function scenario(lines: string[], overrides: SettingsOverrides = {}): { settings: Settings; relaysFile: string } {
  const directory = join(root, `s${++scenarioCount}`);
  const relaysFile = join(directory, 'Relay.dat');
  const settings = buildSettings({
    relayList: relaysFile,
    stateDir: join(directory, 'state'),
    clientId: `client-${scenarioCount}`,
    jitter: 0,
    ...overrides,
    probe: { timeoutMs: 200, retries: 0, tcpTimeoutMs: 200, ...overrides.probe },
    register: { timeoutMs: 2000, ...overrides.register },
  });
  writeRelays(relaysFile, lines);
  return { settings, relaysFile };
}

function writeRelays(file: string, lines: string[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** A network seen from the endpoint: the default gateway, and the source address toward any relay. */
function fingerprint(gateway: string, source: string): (toward: string | null) => Promise<NetworkFingerprint> {
  return (toward) =>
    Promise.resolve({
      ipv4: { gateway, interface: 'e0' },
      ipv6: null,
      source: toward === null ? null : { toward, address: source },
    });
}

interface RunOptions {
  clock: FakeClock;
  hops: Record<string, number>;
  network?: RunCycleOptions['readNetwork'];
  force?: boolean;
}

function run(settings: Settings, options: RunOptions): Promise<RunReport> {
  return runCycle({
    settings,
    clock: options.clock,
    force: options.force,
    version: 'test',
    random: () => 0.5,
    transport: createMemoryTransport({
      hosts: Object.entries(options.hops).map(([address, forwardHops]) => ({ address, forwardHops })),
      timeExceededLimit: null,
    }),
    readNetwork: options.network ?? fingerprint('198.18.0.1', '198.18.0.2'),
  });
}

describe('runCycle: network changes', () => {
  it('re-selects with rule network-changed when the default route moves, then keeps with the network unchanged', async () => {
    const office = await stub('127.0.0.11');
    const home = await stub('127.0.0.12');
    const { settings } = scenario([`127.0.0.11:${office.port}`, `127.0.0.12:${home.port}`]);
    const clock = createFakeClock('2024-03-01T12:00:00.000Z');
    const atOffice = { '127.0.0.11': 1, '127.0.0.12': 4 };
    const atHome = { '127.0.0.11': 4, '127.0.0.12': 1 };

    const first = await run(settings, { clock, hops: atOffice, network: fingerprint('198.18.0.1', '198.18.0.2') });
    expect(first).toMatchObject({ action: 'selected', rule: 'first-run' });
    expect(first.relay?.host).toBe('127.0.0.11');
    expect(first.state.network?.ipv4).toEqual({ gateway: '198.18.0.1', interface: 'e0' });

    clock.advanceSeconds(60);
    const moved = await run(settings, { clock, hops: atHome, network: fingerprint('198.18.0.5', '198.18.0.6') });
    expect(moved).toMatchObject({ action: 'selected', rule: 'network-changed' });
    expect(moved.networkChange).toBe(
      'the IPv4 default route moved from via 198.18.0.1 on e0 to via 198.18.0.5 on e0; the source address toward 127.0.0.11 changed from 198.18.0.2 to 198.18.0.6',
    );
    expect(moved.reason).toMatch(/^the network changed: the IPv4 default route moved/);
    expect(moved.relay?.host).toBe('127.0.0.12');
    expect(home.registrations).toHaveLength(1);

    clock.advanceSeconds(60);
    const settled = await run(settings, { clock, hops: atHome, network: fingerprint('198.18.0.5', '198.18.0.6') });
    expect(settled).toMatchObject({ action: 'kept', rule: 'healthy', packetsSent: 0 });
  });

  it('does not select again and again after a failed selection on the new network: the retry back-off holds', async () => {
    const { settings } = scenario(['127.0.0.13:9']);
    const clock = createFakeClock('2024-03-01T12:00:00.000Z');
    const first = await run(settings, { clock, hops: {}, network: fingerprint('198.18.0.1', '198.18.0.2') });
    expect(first.action).toBe('failed');
    clock.advanceSeconds(5);
    const changed = await run(settings, { clock, hops: {}, network: fingerprint('198.18.0.5', '198.18.0.6') });
    expect(changed).toMatchObject({ action: 'failed', rule: 'network-changed' });
    clock.advanceSeconds(5);
    const waiting = await run(settings, { clock, hops: {}, network: fingerprint('198.18.0.5', '198.18.0.6') });
    expect(waiting).toMatchObject({ action: 'waiting', rule: 'retry-pending', packetsSent: 0 });
  });
});

describe('runCycle: hysteresis of the periodic re-selection', () => {
  it('keeps the current relay when another is 1 hop nearer, switches when one is 2 hops nearer', async () => {
    const current = await stub('127.0.0.21');
    const oneNearer = await stub('127.0.0.22');
    const twoNearer = await stub('127.0.0.23');
    const { settings, relaysFile } = scenario([`127.0.0.21:${current.port}`], {
      intervalSeconds: 3600,
      switchMarginHops: 1,
    });
    const clock = createFakeClock('2024-03-01T12:00:00.000Z');
    const hops = { '127.0.0.21': 3, '127.0.0.22': 2, '127.0.0.23': 1 };
    expect((await run(settings, { clock, hops })).relay?.host).toBe('127.0.0.21');

    writeRelays(relaysFile, [`127.0.0.21:${current.port}`, `127.0.0.22:${oneNearer.port}`]);
    clock.advanceSeconds(3600);
    const kept = await run(settings, { clock, hops });
    expect(kept).toMatchObject({ action: 'kept', rule: 'periodic' });
    expect(kept.switchMargin).toEqual({
      kept: true,
      reason: `kept 127.0.0.21:${current.port}: 127.0.0.22:${oneNearer.port} is only 1 hop nearer (switchMarginHops 1)`,
    });
    expect(kept.reason).toContain(`kept 127.0.0.21:${current.port}: 127.0.0.22:${oneNearer.port} is only 1 hop nearer`);
    expect(kept.relay?.host).toBe('127.0.0.21');
    expect(oneNearer.registrations).toHaveLength(0);
    expect(kept.state.counters?.selections).toEqual({ selected: 1, kept: 1, failed: 0 });

    writeRelays(relaysFile, [
      `127.0.0.21:${current.port}`,
      `127.0.0.22:${oneNearer.port}`,
      `127.0.0.23:${twoNearer.port}`,
    ]);
    clock.advanceSeconds(3600);
    const switched = await run(settings, { clock, hops });
    expect(switched).toMatchObject({ action: 'selected', rule: 'periodic' });
    expect(switched.relay?.host).toBe('127.0.0.23');
    expect(switched.reason).toContain(
      `switched from 127.0.0.21:${current.port}: 127.0.0.23:${twoNearer.port} is 2 hops nearer (switchMarginHops 1)`,
    );
  });
});

describe('runCycle: full relays', () => {
  it('registers with the next relay in the same run, schedules no retry, and avoids the full relay next run', async () => {
    const full = await stub('127.0.0.31', { capacity: 0, retryAfterSeconds: 900 });
    const next = await stub('127.0.0.32');
    const { settings } = scenario([`127.0.0.31:${full.port}`, `127.0.0.32:${next.port}`]);
    const clock = createFakeClock('2024-03-01T12:00:00.000Z');
    const hops = { '127.0.0.31': 1, '127.0.0.32': 2 };
    const first = await run(settings, { clock, hops });
    expect(first.action).toBe('selected');
    expect(first.relay?.host).toBe('127.0.0.32');
    expect(first.state.retry).toBeNull();
    expect(first.state.failingSince).toBeNull();
    expect(first.state.avoidedRelays).toEqual([
      {
        host: '127.0.0.31',
        port: full.port,
        until: '2024-03-01T12:15:00.000Z',
        reason: 'full (HTTP 429, Retry-After 900 s)',
      },
    ]);
    expect(full.registrations.map((entry) => entry.status)).toEqual([429]);

    clock.advanceSeconds(60);
    const again = await run(settings, { clock, hops, force: true });
    expect(again.relay?.host).toBe('127.0.0.32');
    expect(full.registrations).toHaveLength(1);
    expect(again.selection?.attempts[0]).toMatchObject({
      outcome: {
        status: 'skipped',
        detail: 'full (HTTP 429, Retry-After 900 s); avoided until 2024-03-01T12:15:00.000Z',
      },
    });

    clock.advanceSeconds(900);
    await run(settings, { clock, hops, force: true });
    expect(full.registrations).toHaveLength(2);
  });
});

describe('runCycle: distance jumps and the metrics file', () => {
  it('warns when the new relay is more than 2 hops further, counts it, and writes metrics a Prometheus parser reads', async () => {
    const near = await stub('127.0.0.41');
    const far = await stub('127.0.0.42');
    const metricsFile = join(root, 'jump.prom');
    const { settings, relaysFile } = scenario(
      [`127.0.0.41:${near.port} affiliation=Branch`, `127.0.0.42:${far.port} affiliation=Branch`],
      { metricsFile, seekList: ['branch'] },
    );
    const clock = createFakeClock('2024-03-01T12:00:00.000Z');
    const hops = { '127.0.0.41': 1, '127.0.0.42': 5 };
    await run(settings, { clock, hops });

    writeRelays(relaysFile, [`127.0.0.42:${far.port} affiliation=Branch`, 'bad line here', 'x:99999']);
    clock.advanceSeconds(60);
    const jumped = await run(settings, { clock, hops });
    expect(jumped).toMatchObject({ action: 'selected', rule: 'relay-removed' });
    expect(jumped.distanceJump).toEqual({
      fromHops: 1,
      toHops: 5,
      from: `127.0.0.41:${near.port}`,
      to: `127.0.0.42:${far.port}`,
    });
    expect(jumped.warnings).toContain(
      `distance to the relay jumped from 1 to 5 hops (127.0.0.41:${near.port} → 127.0.0.42:${far.port}): more than 2 hops further than the last selection; a routing change, or the nearby relays stopped answering`,
    );

    expect(statSync(metricsFile).mode & 0o777).toBe(0o644);
    const families = new Map(
      parsePrometheusTextFormat(readFileSync(metricsFile, 'utf8')).map((family) => [family.name, family]),
    );
    const value = (name: string, labels?: Record<string, string>): number => {
      const family = families.get(name);
      const sample = family?.metrics.find(
        (entry) => labels === undefined || Object.entries(labels).every(([key, text]) => entry.labels?.[key] === text),
      );
      if (sample === undefined) throw new Error(`no sample of ${name} ${JSON.stringify(labels)}`);
      return Number(sample.value);
    };
    const state = jumped.state;
    expect(families.get('relay_select_relay_info')?.metrics).toEqual([
      { value: '1', labels: { host: '127.0.0.42', port: String(far.port), pool: 'branch', method: 'echo-ttl' } },
    ]);
    expect(value('relay_select_relay_distance_hops')).toBe(5);
    expect(value('relay_select_relay_rtt_seconds')).toBeCloseTo(state.current!.rttMs! / 1000, 9);
    expect(value('relay_select_selections_total', { result: 'selected' })).toBe(2);
    expect(value('relay_select_selections_total', { result: 'failed' })).toBe(0);
    expect(value('relay_select_echo_requests_total')).toBe(state.counters!.echoRequests);
    expect(state.counters!.echoRequests).toBeGreaterThanOrEqual(3);
    expect(value('relay_select_distance_jumps_total')).toBe(1);
    expect(value('relay_select_last_distance_jump_hops')).toBe(4);
    expect(value('relay_select_failing_since_timestamp_seconds')).toBe(0);
    expect(value('relay_select_retry_due_timestamp_seconds')).toBe(0);
    expect(value('relay_select_last_success_timestamp_seconds')).toBe(Date.parse(state.lastSelectionAt!) / 1000);
    expect(value('relay_select_refused_inputs', { input: 'relay-list-line' })).toBe(2);
    expect(value('relay_select_refused_inputs', { input: 'relay-list' })).toBe(0);
    expect(value('relay_select_last_run_info', { action: 'selected', rule: 'relay-removed' })).toBe(1);
    expect(families.get('relay_select_selections_total')?.type).toBe('COUNTER');
    expect(families.get('relay_select_relay_distance_hops')?.type).toBe('GAUGE');

    // The next run (a health check) rewrites the file: the check is counted, the selection counts stay.
    clock.advanceSeconds(60);
    const next = await run(settings, { clock, hops });
    expect(next).toMatchObject({ action: 'kept', rule: 'healthy', tcpChecks: 1 });
    const after = new Map(
      parsePrometheusTextFormat(readFileSync(metricsFile, 'utf8')).map((family) => [family.name, family]),
    );
    expect(Number(after.get('relay_select_tcp_checks_total')!.metrics[0]!.value)).toBe(1);
    expect(after.get('relay_select_last_run_info')!.metrics).toEqual([
      { value: '1', labels: { action: 'kept', rule: 'healthy' } },
    ]);
  });

  it('replaces a metrics file planted as a symbolic link instead of writing through it, mode 0644 whatever the umask', async () => {
    const relay = await stub('127.0.0.52');
    const directory = join(root, 'textfile-collector');
    mkdirSync(directory, { mode: 0o755 });
    const victim = join(root, 'victim');
    writeFileSync(victim, 'keep me\n');
    const metricsFile = join(directory, 'relay.prom');
    symlinkSync(victim, metricsFile);
    const { settings } = scenario([`127.0.0.52:${relay.port}`], { metricsFile });
    const umask = process.umask(0o077);
    try {
      const report = await run(settings, { clock: createFakeClock(), hops: { '127.0.0.52': 1 } });
      expect(report.warnings).toEqual([]);
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(lstatSync(metricsFile).isFile()).toBe(true);
    expect(statSync(metricsFile).mode & 0o777).toBe(0o644);
    expect(readdirSync(directory)).toEqual(['relay.prom']);
  });

  it.skipIf(!isRoot)(
    `as root, refuses a metrics directory another user can write (a warning naming the fix); nothing is created there${isRoot ? '' : ' — skipped: needs root'}`,
    async () => {
      const relay = await stub('127.0.0.53');
      const directory = join(root, 'open-collector');
      mkdirSync(directory);
      chmodSync(directory, 0o777);
      const { settings } = scenario([`127.0.0.53:${relay.port}`], { metricsFile: join(directory, 'relay.prom') });
      const report = await run(settings, { clock: createFakeClock(), hops: { '127.0.0.53': 1 } });
      expect(report.action).toBe('selected');
      expect(report.warnings).toEqual([
        `the metricsFile directory ${directory} is not trusted: owned by uid 0, mode 0777 — chmod go-w ${directory} (as root, relay-select uses only files and directories that no other user can change)`,
      ]);
      expect(readdirSync(directory)).toEqual([]);
    },
  );

  it('turns a metrics file that cannot be written into a warning; the run still succeeds', async () => {
    const relay = await stub('127.0.0.51');
    const { settings } = scenario([`127.0.0.51:${relay.port}`], {
      metricsFile: join(root, 'no-such-directory', 'relay.prom'),
    });
    const report = await run(settings, { clock: createFakeClock(), hops: { '127.0.0.51': 1 } });
    expect(report.action).toBe('selected');
    expect(report.warnings).toEqual([
      expect.stringMatching(
        /^metricsFile: cannot write .*no-such-directory\/relay\.prom \(ENOENT\) — point metricsFile into an existing directory/,
      ),
    ]);
  });
});
