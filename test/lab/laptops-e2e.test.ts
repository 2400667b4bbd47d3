/**
 * Issue 12 end to end: the real CLI (bin/relay-select.js over dist/) in the endpoint namespace of a lab,
 * real routers, real stub relays, the kernel's own routes. A laptop with two networks — the office (dock,
 * gateway gwA) and home (Wi-Fi, gateway gwB), both reaching a WAN router — whose default route the test
 * moves between runs, as docking and undocking do:
 *
 *   relayA ─ gwA ─── wan ─── gwB ─ relayB        seen from the office (default via gwA): relayA 1 hop,
 *   relayF ─┘  \     │      /                    relayF 1, relayW 2, relayB 3; from home (via gwB):
 *               ep  relayW                       relayB 1, relayW 2, relayA 3
 *               (dock to gwA, Wi-Fi to gwB)
 *
 * Each network routes the laptop's address on the other network through the WAN, as two separate networks
 * would (the testbed's shortest paths would send it straight to the laptop's other interface).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, type LabNetwork } from '../../src/lab/netns/network.js';
import type { RunJson } from '../../src/cycle/run-json.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import {
  missingBuildReason,
  readE2eState,
  sleep,
  startE2eStub,
  writeE2eScenario,
  type E2eScenario,
  type E2eStub,
} from '../helpers/e2e-lab.js';
import { isRoot, NOT_ROOT_REASON } from '../helpers/root.js';

const PORT = 52311;
const skipReason = !isRoot ? NOT_ROOT_REASON : missingBuildReason();
const RELAYS = ['relayA', 'relayB', 'relayW', 'relayF'] as const;
type RelayName = (typeof RELAYS)[number];

describe.skipIf(skipReason !== undefined)(
  `laptops, stable choices, opt-out and full relays, end to end${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    let lab: LabNetwork;
    let root: string;
    const stubs = new Map<RelayName, E2eStub>();

    const stub = (name: RelayName): E2eStub => stubs.get(name)!;
    const address = (name: string): string => lab.addressOf(name);
    const relayLine = (name: RelayName, extra = ''): string => `${address(name)}:${PORT} ${extra}`.trim();
    const explain = (result: CliRun): string =>
      `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;

    /** The link between two nodes: its subnet, and each end's device and address. */
    const link = (a: string, b: string) => {
      const end = lab.plan.nodes.find((node) => node.name === a)!.interfaces.find((entry) => entry.peer === b)!;
      return {
        subnet: lab.plan.links[end.linkIndex]!.ipv4Subnet,
        device: end.device,
        address: end.ipv4,
        peerAddress: end.peerIpv4,
      };
    };

    /** Puts the laptop on one network: its only routes are the two connected subnets and a default route. */
    const moveTo = async (gateway: 'gwA' | 'gwB'): Promise<void> => {
      const via = link('ep', gateway);
      await lab.exec('ep', ['ip', 'route', 'flush', 'proto', 'boot']);
      const result = await lab.exec('ep', [
        'ip',
        'route',
        'replace',
        'default',
        'via',
        via.peerAddress,
        'dev',
        via.device,
      ]);
      if (result.code !== 0) throw new Error(`ip route replace default: ${result.stderr}`);
    };

    const scenario = (name: string, lines: string[], config: Record<string, unknown> = {}): E2eScenario =>
      writeE2eScenario(root, name, lines, {
        clientId: `laptop-${name}`,
        jitter: 0,
        ...config,
        probe: { timeoutMs: 500, tcpTimeoutMs: 500 },
        register: { scheme: 'http', timeoutMs: 2000 },
      });
    const run = (files: E2eScenario, ...extra: string[]): Promise<CliRun<RunJson>> =>
      runCli<RunJson>(['run', '--json', ...files.fileArgs, ...extra], {
        prefix: ['ip', 'netns', 'exec', lab.namespaceOf('ep')],
        timeoutMs: 60_000,
      });
    const setModes = async (): Promise<void> => {
      await Promise.all(RELAYS.map((name) => stub(name).setMode('ok')));
    };

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'relay-select-laptops-e2e-'));
      lab = await buildNetwork({
        routers: ['gwA', 'gwB', 'wan'],
        hosts: [
          { name: 'ep' },
          { name: 'relayA', attach: 'gwA' },
          { name: 'relayF', attach: 'gwA' },
          { name: 'relayB', attach: 'gwB' },
          { name: 'relayW', attach: 'wan' },
        ],
        links: [
          { from: 'ep', to: 'gwA' },
          { from: 'ep', to: 'gwB' },
          { from: 'gwA', to: 'wan' },
          { from: 'gwB', to: 'wan' },
        ],
      });
      // Each network reaches the laptop's address on the other network through the WAN.
      for (const [gateway, other] of [
        ['gwA', 'gwB'],
        ['gwB', 'gwA'],
      ] as const) {
        const result = await lab.exec(gateway, [
          'ip',
          'route',
          'replace',
          link('ep', other).subnet,
          'via',
          link(gateway, 'wan').peerAddress,
        ]);
        if (result.code !== 0) throw new Error(`route on ${gateway}: ${result.stderr}`);
      }
      for (const name of RELAYS) {
        stubs.set(
          name,
          await startE2eStub(lab, name, {
            directory: root,
            port: PORT,
            ...(name === 'relayF' ? { capacity: 1, retryAfterSeconds: 600 } : {}),
          }),
        );
      }
    }, 120_000);

    afterAll(async () => {
      await Promise.all([...stubs.values()].map((entry) => entry.stop().catch(() => undefined)));
      await lab?.destroy();
      if (root) rmSync(root, { recursive: true, force: true });
    }, 60_000);

    it('re-selects with rule network-changed when the default route moves to the other gateway, and registers with the relay nearest from there', async () => {
      await setModes();
      await moveTo('gwA');
      const files = scenario('move', [relayLine('relayA'), relayLine('relayB'), relayLine('relayW')]);
      const office = await run(files);
      expect(office.code, explain(office)).toBe(0);
      expect(office.json).toMatchObject({ action: 'selected', rule: 'first-run' });
      expect(office.json.relay).toMatchObject({ host: address('relayA'), distance: 1 });
      expect(readE2eState(files)!.network!.ipv4).toEqual({
        gateway: link('ep', 'gwA').peerAddress,
        interface: link('ep', 'gwA').device,
      });

      // Unchanged network: the next cron run only checks the relay.
      const same = await run(files);
      expect(same.json).toMatchObject({ action: 'kept', rule: 'healthy', packetsSent: 0 });

      await moveTo('gwB');
      const home = await run(files);
      expect(home.code, explain(home)).toBe(0);
      expect(home.json).toMatchObject({ action: 'selected', rule: 'network-changed' });
      expect(home.json.networkChange).toContain(
        `the IPv4 default route moved from via ${link('ep', 'gwA').peerAddress} on ${link('ep', 'gwA').device} to via ${link('ep', 'gwB').peerAddress} on ${link('ep', 'gwB').device}`,
      );
      expect(home.json.networkChange).toContain(
        `the source address toward ${address('relayA')} changed from ${link('ep', 'gwA').address} to ${link('ep', 'gwB').address}`,
      );
      expect(home.json.relay).toMatchObject({ host: address('relayB'), distance: 1 });
      const distances = Object.fromEntries(home.json.probes.map((probe) => [String(probe.address), probe.distance]));
      expect(distances).toEqual({ [address('relayA')]: 3, [address('relayB')]: 1, [address('relayW')]: 2 });
      expect(stub('relayB').registrations('laptop-move')).toHaveLength(1);
      // Back at the office: the human line says why it selected.
      await moveTo('gwA');
      const back = await runCli(['run', ...files.fileArgs], { prefix: ['ip', 'netns', 'exec', lab.namespaceOf('ep')] });
      expect(back.stdout).toMatch(
        new RegExp(
          `^selected ${address('relayA')}:${PORT} \\(1 hop, pool \\*all\\*\\): the network changed: the IPv4 default route moved`,
        ),
      );
    });

    it('keeps the current relay on a periodic re-selection when another is 1 hop nearer, switches when one is 2 hops nearer', async () => {
      await setModes();
      await moveTo('gwA');
      const files = scenario('margin', [relayLine('relayB')], { intervalSeconds: 1, switchMarginHops: 1 });
      const first = await run(files);
      expect(first.json.relay).toMatchObject({ host: address('relayB'), distance: 3 });

      writeFileSync(files.relaysFile, `${[relayLine('relayB'), relayLine('relayW')].join('\n')}\n`);
      await sleep(1100);
      const kept = await run(files);
      expect(kept.code, explain(kept)).toBe(0);
      expect(kept.json).toMatchObject({ action: 'kept', rule: 'periodic', switchMargin: { kept: true } });
      expect(kept.json.reason).toContain(
        `kept ${address('relayB')}:${PORT}: ${address('relayW')}:${PORT} is only 1 hop nearer (switchMarginHops 1)`,
      );
      expect(kept.json.relay).toMatchObject({ host: address('relayB'), distance: 3 });
      expect(stub('relayW').registrations('laptop-margin')).toEqual([]);
      expect(stub('relayB').registrations('laptop-margin')).toHaveLength(2);

      writeFileSync(
        files.relaysFile,
        `${[relayLine('relayB'), relayLine('relayW'), relayLine('relayA')].join('\n')}\n`,
      );
      await sleep(1100);
      const switched = await run(files);
      expect(switched.code, explain(switched)).toBe(0);
      expect(switched.json).toMatchObject({ action: 'selected', rule: 'periodic', switchMargin: { kept: false } });
      expect(switched.json.reason).toContain(
        `switched from ${address('relayB')}:${PORT}: ${address('relayA')}:${PORT} is 2 hops nearer (switchMarginHops 1)`,
      );
      expect(switched.json.relay).toMatchObject({ host: address('relayA'), distance: 1 });
      expect(readE2eState(files)!.counters!.selections).toEqual({ selected: 2, kept: 1, failed: 0 });
    });

    it('never auto-selects a relay marked autoselect=false, even the nearest, but uses it as the failover relay', async () => {
      await setModes();
      await moveTo('gwA');
      const files = scenario('optout', [relayLine('relayA', 'autoselect=false'), relayLine('relayW')], {
        failoverRelays: [`${address('relayA')}:${PORT}`],
      });
      const first = await run(files, '--force');
      expect(first.code, explain(first)).toBe(0);
      expect(first.json.relay).toMatchObject({ host: address('relayW'), distance: 2, pool: '*all*' });
      expect(first.json.probes.map((probe) => probe.address)).toEqual([address('relayW')]);
      expect(stub('relayA').registrations('laptop-optout')).toEqual([]);

      const plan = await runCli(['plan', ...files.fileArgs]);
      expect(plan.stdout).toContain(`${address('relayA')} (autoselect=false: not chosen automatically)`);

      await stub('relayW').setMode('500');
      const failover = await run(files, '--force');
      expect(failover.code, explain(failover)).toBe(0);
      expect(failover.json.relay).toMatchObject({ host: address('relayA'), pool: 'failover', method: 'failover' });
      expect(
        failover.json.attempts.map((attempt: { host: string; outcome: string }) => [attempt.host, attempt.outcome]),
      ).toEqual([
        [address('relayW'), 'failed'],
        [address('relayA'), 'registered'],
      ]);
    });

    it('registers with the next relay in the same run when the nearest is at capacity (429), schedules no retry, and avoids it next run', async () => {
      await setModes();
      await moveTo('gwA');
      // Another endpoint takes the relay's one place.
      const filler = scenario('filler', [relayLine('relayF')]);
      expect((await run(filler)).json.relay).toMatchObject({ host: address('relayF') });

      const files = scenario('full', [relayLine('relayF'), relayLine('relayW')]);
      const first = await run(files);
      expect(first.code, explain(first)).toBe(0);
      expect(first.json).toMatchObject({ action: 'selected', rule: 'first-run' });
      expect(first.json.relay).toMatchObject({ host: address('relayW'), distance: 2 });
      expect(
        first.json.attempts.map((attempt: { host: string; outcome: string; detail?: string }) => [
          attempt.host,
          attempt.outcome,
          attempt.detail,
        ]),
      ).toEqual([
        [address('relayF'), 'full', 'HTTP 429: relay alive but full; Retry-After 600 s'],
        [address('relayW'), 'registered', expect.any(String)],
      ]);
      const state = readE2eState(files)!;
      expect(state.retry).toBeNull();
      expect(state.failingSince).toBeNull();
      expect(state.avoidedRelays).toEqual([
        {
          host: address('relayF'),
          port: PORT,
          until: expect.any(String),
          reason: 'full (HTTP 429, Retry-After 600 s)',
        },
      ]);
      expect(Date.parse(state.avoidedRelays![0]!.until) - Date.parse(state.lastSelectionAt!)).toBe(600_000);
      expect(
        stub('relayF')
          .registrations('laptop-full')
          .map((entry) => entry.status),
      ).toEqual([429]);

      const next = await run(files, '--force');
      expect(next.code, explain(next)).toBe(0);
      expect(next.json.relay).toMatchObject({ host: address('relayW') });
      expect(next.json.attempts[0]).toMatchObject({
        host: address('relayF'),
        outcome: 'skipped',
        detail: expect.stringMatching(/^full \(HTTP 429, Retry-After 600 s\); avoided until /),
      });
      expect(stub('relayF').registrations('laptop-full')).toHaveLength(1);
      const status = await runCli(['status', ...files.fileArgs]);
      expect(status.stdout).toMatch(
        new RegExp(
          `avoided: +${address('relayF').replace(/\./g, '\\.')}:${PORT} full \\(HTTP 429, Retry-After 600 s\\), until `,
        ),
      );
    });
  },
);
