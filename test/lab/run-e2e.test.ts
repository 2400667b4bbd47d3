/**
 * End-to-end tests of the selection and cron cycle (issue 4, "Namespace end-to-end tests"): the real
 * CLI (bin/relay-select.js over dist/) runs in the endpoint namespace of one lab, against real stub
 * relays in relay namespaces. Scenarios run in order and share the stubs; each sets the modes it needs
 * and uses its own client id, state directory, config and relay list.
 *
 *   ep ── r1 ── r2 ── r3 ── r4           distances seen from ep (routers in between):
 *   │     │     │     │     │            paris0 0 (linked to ep), lyon1 1, paris2 2, lyon3 3, far4 4
 *  paris0 lyon1 paris2 lyon3 far4        dead1 1, dead2 2: ICMP dropped, nothing listening
 *         dead1 dead2                    fo 2: failover relay; tls 2: https stub that needs a client cert
 *               fo, tls
 *
 * Two more stubs: `quiet` on dead1 port 52312 (ICMP dropped, TCP open: the TCP fallback) and `v6`
 * on far4's IPv6 address.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, type LabNetwork } from '../../src/lab/netns/network.js';
import type { RunJson } from '../../src/cycle/run-json.js';
import type { StubMode } from '../../src/lab/stub-relay/stub-server.js';
import {
  missingBuildReason,
  readE2eState,
  readOutEchos,
  sleep,
  startE2eStub,
  writeE2eScenario,
  type E2eScenario,
  type E2eStub,
} from '../helpers/e2e-lab.js';
import { runCli, type CliRun, type StatusJson } from '../helpers/cli.js';
import { generateTestPki, type TestPki } from '../helpers/tls.js';
import { isRoot, NOT_ROOT_REASON } from '../helpers/root.js';

const PORT = 52311;
const TLS_PORT = 52443;
const QUIET_PORT = 52312;
/** An address in 198.18.0.0/15 that no namespace routes: the endpoint cannot even send to it. */
const UNROUTED = '198.19.254.1';
const HTTP_STUBS = ['paris0', 'lyon1', 'paris2', 'lyon3', 'far4', 'fo'] as const;
type StubName = (typeof HTTP_STUBS)[number];
/** What `report-failure --json` prints. */
interface ReportFailureJson {
  relay: StatusJson['relay'];
  failingSince: string | null;
  reason: string | null;
}

const skipReason = !isRoot ? NOT_ROOT_REASON : missingBuildReason();

describe.skipIf(skipReason !== undefined)(
  `relay-select run end to end in a namespace lab${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    let lab: LabNetwork;
    let root: string;
    let pki: TestPki;
    const stubs = new Map<string, E2eStub>();
    let tlsStub: E2eStub;
    let quietStub: E2eStub;
    let v6Stub: E2eStub;

    const stub = (name: StubName): E2eStub => stubs.get(name)!;
    const address = (node: string): string => lab.addressOf(node);
    const line = (node: string, group: string, port = PORT): string =>
      `${address(node)}:${port} affiliation=${group} priority=0`;

    /** Every HTTP stub `ok`, except the ones named. */
    const setModes = async (overrides: Partial<Record<StubName, StubMode>> = {}): Promise<void> => {
      await Promise.all(HTTP_STUBS.map((name) => stub(name).setMode(overrides[name] ?? 'ok')));
    };

    /** A scenario with the common settings: short probe timeouts, no jitter, its own client id. */
    const scenario = (name: string, relayLines: string[], config: Record<string, unknown>): E2eScenario =>
      writeE2eScenario(root, name, relayLines, {
        clientId: `e2e-${name}`,
        jitter: 0,
        ...config,
        probe: { timeoutMs: 500, tcpTimeoutMs: 500, ...(config.probe ?? {}) },
        register: { scheme: 'http', timeoutMs: 2000, ...(config.register ?? {}) },
      });

    /** The real CLI in the endpoint's namespace. */
    const cli = <Json = unknown>(args: string[]): Promise<CliRun<Json>> =>
      runCli<Json>(args, { prefix: ['ip', 'netns', 'exec', lab.namespaceOf('ep')], timeoutMs: 60_000 });
    const run = (files: E2eScenario, ...extra: string[]): Promise<CliRun<RunJson>> =>
      cli<RunJson>(['run', '--json', ...files.fileArgs, ...extra]);

    /** Registrations of this scenario's client, per stub that got any, with the status it answered. */
    const registrationsOf = (clientId: string): Array<{ relay: string; status: number | null }> =>
      [...stubs.values(), tlsStub, quietStub, v6Stub]
        .flatMap((entry) => entry.registrations(clientId))
        .sort((a, b) => a.at.localeCompare(b.at))
        .map((entry) => ({ relay: entry.relay, status: entry.status }));

    const explain = (result: CliRun): string =>
      `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'relay-select-run-e2e-'));
      lab = await buildNetwork({
        ipv6: true,
        routers: ['r1', 'r2', 'r3', 'r4'],
        hosts: [
          { name: 'ep', attach: 'r1' },
          { name: 'paris0' },
          { name: 'lyon1', attach: 'r1' },
          { name: 'paris2', attach: 'r2' },
          { name: 'lyon3', attach: 'r3' },
          { name: 'far4', attach: 'r4' },
          { name: 'dead1', attach: 'r1', dropsIcmp: true },
          { name: 'dead2', attach: 'r2', dropsIcmp: true },
          { name: 'fo', attach: 'r2' },
          { name: 'tls', attach: 'r2' },
        ],
        links: [
          { from: 'r1', to: 'r2' },
          { from: 'r2', to: 'r3' },
          { from: 'r3', to: 'r4' },
          { from: 'ep', to: 'paris0' },
        ],
      });
      pki = generateTestPki([lab.addressOf('tls')], 'e2e-');
      const started = await Promise.all(
        HTTP_STUBS.map((name) => startE2eStub(lab, name, { directory: root, port: PORT })),
      );
      for (const entry of started) stubs.set(entry.node, entry);
      tlsStub = await startE2eStub(lab, 'tls', {
        directory: root,
        port: TLS_PORT,
        tls: { cert: pki.server.certFile, key: pki.server.keyFile, clientCa: pki.ca.certFile },
      });
      quietStub = await startE2eStub(lab, 'dead1', { directory: root, port: QUIET_PORT });
      v6Stub = await startE2eStub(lab, 'far4', { directory: root, port: PORT, family: 6 });
    }, 120_000);

    afterAll(async () => {
      await Promise.all(
        [...stubs.values(), tlsStub, quietStub, v6Stub]
          .filter((entry) => entry !== undefined)
          .map((entry) => entry.stop().catch(() => undefined)),
      );
      await lab?.destroy();
      pki?.remove();
      if (root) rmSync(root, { recursive: true, force: true });
    }, 60_000);

    it('registers with the nearest relay of the first pool that answers', async () => {
      await setModes();
      const files = scenario(
        'nearest',
        [line('paris0', 'paris'), line('lyon3', 'lyon'), line('lyon1', 'lyon'), line('paris2', 'paris')],
        {
          seekList: ['lyon', 'paris'],
        },
      );
      const result = await run(files, '--force');
      expect(result.code, explain(result)).toBe(0);
      expect(result.json.action).toBe('selected');
      expect(result.json.relay).toMatchObject({ host: address('lyon1'), distance: 1, pool: 'lyon' });
      // The whole lyon pool was measured, at its true distances; paris (with a nearer relay) was not probed.
      const distances = Object.fromEntries(result.json.probes.map((probe) => [String(probe.address), probe.distance]));
      expect(distances).toEqual({ [address('lyon1')]: 1, [address('lyon3')]: 3 });
      expect(result.json.pools).toEqual([
        expect.objectContaining({ name: 'lyon', probed: true, reachable: 2 }),
        expect.objectContaining({ name: 'paris', probed: false }),
      ]);
      expect(result.json.attempts).toEqual([
        expect.objectContaining({ host: address('lyon1'), outcome: 'registered' }),
      ]);
      expect(result.json.packetsSent).toBeGreaterThan(0);
      expect(registrationsOf('e2e-nearest')).toEqual([{ relay: 'lyon1', status: 200 }]);
      const body = stub('lyon1').registrations('e2e-nearest')[0]!.body as { distance: number; pool: string };
      expect(body).toMatchObject({ distance: 1, pool: 'lyon' });
      expect(Date.parse(result.json.nextDueAt)).toBeGreaterThan(Date.now() + 3600_000);

      // Cron's next call: a health check of the relay, no probing, no new registration.
      const next = await run(files);
      expect(next.code, explain(next)).toBe(0);
      expect(next.json).toMatchObject({ action: 'kept', rule: 'healthy', packetsSent: 0, probes: [] });
      expect(next.json.relay!.host).toBe(address('lyon1'));
      expect(registrationsOf('e2e-nearest')).toHaveLength(1);
    });

    it('a dry run probes and ranks but neither registers nor writes state', async () => {
      await setModes();
      const files = scenario('dryrun', [line('lyon3', 'lyon'), line('lyon1', 'lyon')], { seekList: ['lyon'] });
      const result = await run(files, '--force', '--dry-run');
      expect(result.code, explain(result)).toBe(0);
      expect(result.json).toMatchObject({ action: 'selected', dryRun: true });
      expect(result.json.relay).toMatchObject({ host: address('lyon1'), distance: 1 });
      expect(result.json.packetsSent).toBeGreaterThan(0);
      expect(result.json.reason).toMatch(/would register with/);
      expect(registrationsOf('e2e-dryrun')).toEqual([]);
      expect(readE2eState(files)).toBeNull();
    });

    it('falls through the seek list to the next group when the first group cannot be reached', async () => {
      await setModes();
      const files = scenario(
        'fallthrough',
        [
          line('dead1', 'lyon'),
          line('dead2', 'lyon'),
          `${UNROUTED}:${PORT} affiliation=lyon priority=0`,
          line('paris2', 'paris'),
          line('paris0', 'paris'),
        ],
        { seekList: ['lyon', 'paris'] },
      );
      const result = await run(files, '--force');
      expect(result.code, explain(result)).toBe(0);
      expect(result.json.action).toBe('selected');
      expect(result.json.relay).toMatchObject({ host: address('paris0'), distance: 0, pool: 'paris' });
      expect(result.json.pools).toEqual([
        expect.objectContaining({ name: 'lyon', probed: true, reachable: 0, relayCount: 3 }),
        expect.objectContaining({ name: 'paris', probed: true, reachable: 2 }),
      ]);
      const lyonProbes = result.json.probes.filter((probe: { host: string }) =>
        [address('dead1'), address('dead2'), UNROUTED].includes(probe.host),
      );
      expect(lyonProbes).toHaveLength(3);
      for (const probe of lyonProbes) expect(probe.method).toBe('unreachable');
      expect(registrationsOf('e2e-fallthrough')).toEqual([{ relay: 'paris0', status: 200 }]);
    });

    it('uses the failover relay when no pool answers', async () => {
      await setModes();
      const files = scenario('failover', [line('dead1', 'lyon'), line('dead2', 'lyon')], {
        seekList: ['lyon'],
        failoverRelays: [stub('fo').spec],
      });
      const result = await run(files, '--force');
      expect(result.code, explain(result)).toBe(0);
      expect(result.json.action).toBe('selected');
      expect(result.json.relay).toMatchObject({ host: address('fo'), port: PORT, pool: 'failover', distance: null });
      expect(result.json.attempts).toEqual([
        expect.objectContaining({ host: address('fo'), pool: 'failover', outcome: 'registered' }),
      ]);
      expect(registrationsOf('e2e-failover')).toEqual([{ relay: 'fo', status: 200 }]);

      // The failover relay is not in the relay list, yet it is no "removed relay": the next run keeps it.
      const next = await run(files);
      expect(next.code, explain(next)).toBe(0);
      expect(next.json).toMatchObject({ action: 'kept', rule: 'healthy', packetsSent: 0 });
      expect(next.json.relay).toMatchObject({ host: address('fo'), pool: 'failover' });
    });

    it('registers with the next relay in the same run when the nearest answers 500', async () => {
      await setModes({ lyon1: '500' });
      const files = scenario('error500', [line('lyon1', 'lyon'), line('lyon3', 'lyon'), line('paris0', 'paris')], {
        seekList: ['lyon', 'paris'],
      });
      const result = await run(files, '--force');
      expect(result.code, explain(result)).toBe(0);
      expect(result.json.relay).toMatchObject({ host: address('lyon3'), distance: 3, pool: 'lyon' });
      expect(result.json.attempts).toEqual([
        expect.objectContaining({ host: address('lyon1'), outcome: 'failed', detail: expect.stringContaining('500') }),
        expect.objectContaining({ host: address('lyon3'), outcome: 'registered' }),
      ]);
      expect(registrationsOf('e2e-error500')).toEqual([
        { relay: 'lyon1', status: 500 },
        { relay: 'lyon3', status: 200 },
      ]);
    });

    it('keeps a current relay that went down until resistFailureIntervalSeconds elapses, then selects another', async () => {
      await setModes();
      const files = scenario('resist', [line('lyon1', 'lyon'), line('lyon3', 'lyon')], {
        seekList: ['lyon'],
        resistFailureIntervalSeconds: 2,
      });
      const first = await run(files, '--force');
      expect(first.code, explain(first)).toBe(0);
      expect(first.json.relay!.host).toBe(address('lyon1'));

      await stub('lyon1').setMode('down');
      const kept = await run(files);
      expect(kept.code, explain(kept)).toBe(0);
      expect(kept.json).toMatchObject({ action: 'kept', rule: 'failing', probes: [], packetsSent: 0 });
      expect(kept.json.relay!.host).toBe(address('lyon1'));
      expect(kept.json.warnings.join('\n')).toMatch(/failing/);
      expect(kept.stderr).toMatch(/failing/);
      const failingSince = readE2eState(files)!.failingSince as string;
      expect(failingSince).not.toBeNull();
      expect(Date.parse(kept.json.nextDueAt)).toBe(Date.parse(failingSince) + 2000);

      await sleep(Math.max(0, Date.parse(failingSince) + 2100 - Date.now()));
      const reselected = await run(files);
      expect(reselected.code, explain(reselected)).toBe(0);
      expect(reselected.json).toMatchObject({ action: 'selected', rule: 'resist-failure-exceeded' });
      expect(reselected.json.relay).toMatchObject({ host: address('lyon3'), distance: 3 });
      expect(
        reselected.json.attempts.map((attempt: { host: string; outcome: string }) => [attempt.host, attempt.outcome]),
      ).toEqual([
        [address('lyon1'), 'failed'],
        [address('lyon3'), 'registered'],
      ]);
      expect(readE2eState(files)).toMatchObject({ failingSince: null, current: { host: address('lyon3') } });
      expect(registrationsOf('e2e-resist')).toEqual([
        { relay: 'lyon1', status: 200 },
        { relay: 'lyon3', status: 200 },
      ]);
    });

    it('exits 69 when every relay is down and schedules retries at growing intervals', async () => {
      await setModes();
      const files = scenario(
        'alldown',
        [line('dead1', 'lyon'), line('dead2', 'lyon'), `${UNROUTED}:${PORT} affiliation=lyon`],
        {
          seekList: ['lyon'],
          minRetryIntervalSeconds: 1,
          maxRetryIntervalSeconds: 3,
        },
      );
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const result = await run(files, ...(attempt === 1 ? ['--force'] : []));
        expect(result.code, explain(result)).toBe(69);
        expect(result.json).toMatchObject({
          action: 'failed',
          relay: null,
          rule: attempt === 1 ? 'forced' : 'retry-due',
        });
        expect(result.json.reason).toMatch(/no relay could be registered/);
        const retry = readE2eState(files)!.retry!;
        expect(retry.attempt).toBe(attempt);
        expect(result.json.nextDueAt).toBe(retry.nextAt);
        const status = await cli<StatusJson>(['status', '--json', ...files.fileArgs]);
        expect(status.json).toMatchObject({
          relay: null,
          retry: { attempt, delaySeconds: retry.delaySeconds },
          nextDueAt: retry.nextAt,
        });
        delays.push(retry.delaySeconds);
        if (attempt === 1) {
          // Before the retry is due, cron's next call does nothing.
          const waiting = await run(files);
          expect(waiting.code, explain(waiting)).toBe(0);
          expect(waiting.json).toMatchObject({ action: 'waiting', rule: 'retry-pending', packetsSent: 0 });
        }
        await sleep(Math.max(0, Date.parse(retry.nextAt) + 50 - Date.now()));
      }
      // 1 → 2 → 4 capped at 3 (jitter 0).
      expect(delays).toEqual([1, 2, 3]);
      expect(registrationsOf('e2e-alldown')).toEqual([]);
    });

    it('keeps a relay whose stub answers 503 without probing', async () => {
      await setModes();
      const files = scenario('upstream', [line('lyon1', 'lyon'), line('lyon3', 'lyon')], {
        seekList: ['lyon'],
        minRetryIntervalSeconds: 1,
      });
      const first = await run(files, '--force');
      expect(first.code, explain(first)).toBe(0);
      expect(first.json.relay!.host).toBe(address('lyon1'));

      await stub('lyon1').setMode('503');
      const echoesBefore = await readOutEchos(lab, 'ep');
      const kept = await run(files);
      const echoesAfter = await readOutEchos(lab, 'ep');
      expect(kept.code, explain(kept)).toBe(0);
      expect(kept.json).toMatchObject({
        action: 'kept',
        rule: 'upstream-down',
        probes: [],
        packetsSent: 0,
        attempts: [],
      });
      expect(kept.json.relay!.host).toBe(address('lyon1'));
      expect(kept.json.warnings.join('\n')).toMatch(/503/);
      expect(echoesAfter - echoesBefore).toBe(0);
      expect(readE2eState(files)!.current!.upstreamDown).toBe(true);

      // The next call inside the back-off does not even check the relay.
      const again = await run(files);
      expect(again.json).toMatchObject({ action: 'kept', rule: 'upstream-backoff', packetsSent: 0 });

      // The upstream comes back: after the back-off the check finds the relay healthy and clears the flag.
      await stub('lyon1').setMode('ok');
      await sleep(Math.max(0, Date.parse(readE2eState(files)!.upstreamBackoff!.nextAt) + 50 - Date.now()));
      const healthy = await run(files);
      expect(healthy.code, explain(healthy)).toBe(0);
      expect(healthy.json).toMatchObject({ action: 'kept', rule: 'healthy', packetsSent: 0 });
      expect(readE2eState(files)).toMatchObject({ upstreamBackoff: null, failingSince: null });
      expect(readE2eState(files)!.current!.upstreamDown).toBeUndefined();
      expect(registrationsOf('e2e-upstream')).toEqual([{ relay: 'lyon1', status: 200 }]);
    });

    it('a relay that answers the registration with 503 is selected and kept, not passed over', async () => {
      await setModes({ lyon1: '503' });
      const files = scenario('upstream503', [line('lyon1', 'lyon'), line('lyon3', 'lyon')], { seekList: ['lyon'] });
      const result = await run(files, '--force');
      expect(result.code, explain(result)).toBe(0);
      expect(result.json.action).toBe('selected');
      expect(result.json.relay).toMatchObject({ host: address('lyon1'), distance: 1 });
      expect(result.json.registration!.status).toBe('upstream-down');
      expect(readE2eState(files)!.current!.upstreamDown).toBe(true);
      expect(registrationsOf('e2e-upstream503')).toEqual([{ relay: 'lyon1', status: 503 }]);
    });

    it('counts a relay that drops ICMP but accepts TCP as reachable, ranked after measured relays', async () => {
      await setModes({ lyon3: '500' });
      const files = scenario('tcpfallback', [`${quietStub.spec} affiliation=lyon priority=0`, line('lyon3', 'lyon')], {
        seekList: ['lyon'],
      });
      const result = await run(files, '--force');
      expect(result.code, explain(result)).toBe(0);
      const quietProbe = result.json.probes.find((probe: { host: string }) => probe.host === quietStub.address);
      expect(quietProbe).toMatchObject({ method: 'tcp', distance: null });
      // lyon3 is three hops away but measured, so it is tried first; it answers 500.
      expect(
        result.json.attempts.map((attempt: { host: string; outcome: string }) => [attempt.host, attempt.outcome]),
      ).toEqual([
        [address('lyon3'), 'failed'],
        [quietStub.address, 'registered'],
      ]);
      expect(result.json.relay).toMatchObject({
        host: quietStub.address,
        port: QUIET_PORT,
        distance: null,
        method: 'tcp',
      });
      expect(registrationsOf('e2e-tcpfallback')).toEqual([
        { relay: 'lyon3', status: 500 },
        { relay: 'dead1', status: 200 },
      ]);
    });

    it('re-selects when the current relay leaves the relay list, and keeps it while a broken list is pushed', async () => {
      await setModes();
      const files = scenario('listchange', [line('lyon1', 'lyon'), line('lyon3', 'lyon')], { seekList: ['lyon'] });
      const first = await run(files, '--force');
      expect(first.code, explain(first)).toBe(0);
      expect(first.json.relay!.host).toBe(address('lyon1'));

      writeFileSync(files.relaysFile, Buffer.from([0, 1, 2, 0, 0xff]));
      const broken = await run(files);
      expect(broken.code, explain(broken)).toBe(0);
      expect(broken.json).toMatchObject({ action: 'kept', rule: 'healthy' });
      expect(broken.json.warnings.join('\n')).toMatch(/cached/);

      writeFileSync(files.relaysFile, `${line('lyon3', 'lyon')}\n`);
      const removed = await run(files);
      expect(removed.code, explain(removed)).toBe(0);
      expect(removed.json).toMatchObject({ action: 'selected', rule: 'relay-removed' });
      expect(removed.json.relay).toMatchObject({ host: address('lyon3'), distance: 3 });
      expect(registrationsOf('e2e-listchange')).toEqual([
        { relay: 'lyon1', status: 200 },
        { relay: 'lyon3', status: 200 },
      ]);
    });

    it('selects and registers with an IPv6 relay', async () => {
      const files = scenario('ipv6', [`${v6Stub.spec} affiliation=v6 priority=0`], { seekList: ['v6'] });
      const result = await run(files, '--force');
      expect(result.code, explain(result)).toBe(0);
      expect(result.json.relay).toMatchObject({
        host: v6Stub.address,
        address: v6Stub.address,
        distance: 4,
        pool: 'v6',
      });
      const seen = v6Stub.registrations('e2e-ipv6');
      expect(seen).toHaveLength(1);
      // The endpoint's address on its link towards r1 (its first link is the one to paris0).
      const uplink = lab.plan.nodes
        .find((node) => node.name === 'ep')!
        .interfaces.find((entry) => entry.peer === 'r1')!;
      expect(seen[0]!.remoteAddress).toBe(uplink.ipv6);
      const next = await run(files);
      expect(next.json).toMatchObject({ action: 'kept', rule: 'healthy' });
    });

    it('registers over HTTPS with the right client certificate and fails clearly without one', async () => {
      await setModes();
      const relays = [`${address('tls')}:${TLS_PORT} affiliation=secure priority=0`];
      const https = (tls: Record<string, string>) => ({
        seekList: ['secure'],
        register: { scheme: 'https', tls: { ca: pki.ca.certFile, ...tls } },
      });

      const good = scenario('mtls', relays, https({ cert: pki.client.certFile, key: pki.client.keyFile }));
      const ok = await run(good, '--force');
      expect(ok.code, explain(ok)).toBe(0);
      expect(ok.json.relay).toMatchObject({ host: address('tls'), port: TLS_PORT, distance: 2, pool: 'secure' });
      const seen = tlsStub.registrations('e2e-mtls');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ status: 200, clientCertificateCn: 'e2e-client' });
      // Secrets never reach the output.
      expect(ok.stdout + ok.stderr).not.toContain('PRIVATE KEY');
      // Cron's next call checks the relay's health over the same mutual TLS and keeps it.
      const checked = await run(good);
      expect(checked.code, explain(checked)).toBe(0);
      expect(checked.json).toMatchObject({ action: 'kept', rule: 'healthy' });

      const none = scenario('nocert', relays, https({}));
      const refused = await run(none, '--force');
      expect(refused.code, explain(refused)).toBe(69);
      expect(refused.json.action).toBe('failed');
      expect(refused.json.attempts).toEqual([
        expect.objectContaining({
          host: address('tls'),
          outcome: 'failed',
          detail: expect.stringMatching(/certificate/i),
        }),
      ]);
      expect(tlsStub.registrations('e2e-nocert')).toEqual([]);

      const stranger = scenario(
        'othercert',
        relays,
        https({ cert: pki.otherClient.certFile, key: pki.otherClient.keyFile }),
      );
      const rejected = await run(stranger, '--force');
      expect(rejected.code, explain(rejected)).toBe(69);
      expect(rejected.json.attempts[0]!.detail).toMatch(/certificate/i);
      expect(tlsStub.registrations('e2e-othercert')).toEqual([]);
    });

    it('status --json reports the selection, and report-failure starts the failure clock', async () => {
      await setModes();
      const files = writeE2eScenario(root, 'status', [line('lyon3', 'lyon'), line('paris2', 'paris')], {
        seekList: ['paris', 'lyon'],
        intervalSeconds: 3600,
        probe: { timeoutMs: 500 },
      });
      const before = await cli(['status', '--json', ...files.fileArgs]);
      expect(before.code, explain(before)).toBe(0);
      expect(before.json).toMatchObject({ relay: null, lastSelectionAt: null, retry: null, failingSince: null });
      const nothing = await cli(['report-failure', '--json', ...files.fileArgs]);
      expect(nothing.code, explain(nothing)).toBe(69);

      const selected = await run(files, '--force');
      expect(selected.code, explain(selected)).toBe(0);
      const status = await cli<StatusJson>(['status', '--json', ...files.fileArgs]);
      expect(status.code, explain(status)).toBe(0);
      expect(status.json.relay).toMatchObject({ host: address('paris2'), distance: 2, pool: 'paris' });
      expect(status.json).toMatchObject({ failingSince: null, retry: null });
      expect(status.json.clientId).toMatch(/\S/);
      expect(stub('paris2').registrations(status.json.clientId!)).toHaveLength(1);
      expect(Date.parse(status.json.nextDueAt)).toBe(Date.parse(status.json.lastSelectionAt!) + 3600_000);
      expect(status.json.nextDueAt).toBe(selected.json.nextDueAt);

      const reported = await cli<ReportFailureJson>([
        'report-failure',
        '--json',
        '--reason',
        'e2e says so',
        ...files.fileArgs,
      ]);
      expect(reported.code, explain(reported)).toBe(0);
      expect(reported.json.failingSince).not.toBeNull();
      const after = await cli<StatusJson>(['status', '--json', ...files.fileArgs]);
      expect(after.json.failingSince).toBe(reported.json.failingSince);
      expect(after.json.lastHealthCheck).toMatchObject({
        result: 'failing',
        detail: expect.stringContaining('e2e says so'),
      });
      // The failure clock brings the next due time forward to failingSince + resistFailureIntervalSeconds (600 s).
      expect(Date.parse(after.json.nextDueAt)).toBe(Date.parse(reported.json.failingSince!) + 600_000);

      // The relay still accepts connections, but the agent's report keeps the failure clock running.
      const nextRun = await cli<RunJson>(['run', '--json', ...files.fileArgs]);
      expect(nextRun.code, explain(nextRun)).toBe(0);
      expect(nextRun.json.action).toBe('kept');
      expect(nextRun.json.rule).toBe('failing');
      expect(nextRun.json.reason).toMatch(/failure reported by the endpoint's agent/);
      const still = await cli<StatusJson>(['status', '--json', ...files.fileArgs]);
      expect(still.json.failingSince).toBe(reported.json.failingSince);
    });

    it('moves on from a relay that never answers, while a second run meanwhile exits 75 on the lock', async () => {
      await setModes({ lyon1: 'slow' });
      const files = scenario('slow', [line('lyon1', 'lyon'), line('lyon3', 'lyon')], {
        seekList: ['lyon'],
        register: { timeoutMs: 1500 },
      });
      const started = Date.now();
      const first = run(files, '--force');
      // Once lyon1 has the request, the first run holds the lock and waits out lyon1's 1.5 s registration timeout.
      const deadline = Date.now() + 10_000;
      while (stub('lyon1').registrations('e2e-slow').length === 0) {
        if (Date.now() > deadline)
          throw new Error(`the first run sent lyon1 no registration:\n${explain(await first)}`);
        await sleep(20);
      }
      const second = await run(files, '--force');
      const result = await first;
      expect(second.code, explain(second)).toBe(75);
      expect(second.stderr).toMatch(/lock/);
      expect(result.code, explain(result)).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      expect(result.json.attempts).toEqual([
        expect.objectContaining({
          host: address('lyon1'),
          outcome: 'failed',
          detail: expect.stringMatching(/timed out/),
        }),
        expect.objectContaining({ host: address('lyon3'), outcome: 'registered' }),
      ]);
      expect(registrationsOf('e2e-slow')).toEqual([
        { relay: 'lyon1', status: null },
        { relay: 'lyon3', status: 200 },
      ]);
    });

    it('exits 65 for a missing relay list with no cached copy and 78 for a bad setting', async () => {
      const files = scenario('exitcodes', [line('lyon1', 'lyon')], { seekList: ['lyon'] });
      const missing = await cli([
        'run',
        '--force',
        '--relays',
        join(files.directory, 'missing.dat'),
        '--config',
        files.configFile,
        '--state-dir',
        files.stateDir,
      ]);
      expect(missing.code, explain(missing)).toBe(65);
      expect(missing.stderr).toMatch(/relay list not found/);
      writeFileSync(files.configFile, JSON.stringify({ resistFailureIntervalSeconds: 'soon' }));
      const badConfig = await cli(['run', '--force', ...files.fileArgs]);
      expect(badConfig.code, explain(badConfig)).toBe(78);
      expect(badConfig.stderr).toMatch(/resistFailureIntervalSeconds/);
    });
  },
);
