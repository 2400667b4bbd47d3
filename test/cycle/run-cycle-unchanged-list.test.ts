/**
 * The cron cycle's handling of an unchanged relay list (issue 13): a run that waits or keeps its relay
 * does not parse a list whose file is the cached last good copy; any change, or a need for the relays,
 * parses it as before. Real files in a temporary state directory, a real TCP listener on loopback for
 * the health check (register.mode none).
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/cycle/run-cycle.js';
import { cacheRelayList, createStateStore, digestRelayList, readCachedRelayList } from '../../src/cycle/state-store.js';
import type { State } from '../../src/cycle/state.js';
import { isRoot } from '../helpers/root.js';
import { settings } from '../helpers/settings.js';

let root: string;
let listener: Server;
let port: number;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'relay-select-cycle-'));
  listener = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.1', port: 0 }, resolve));
  port = (listener.address() as { port: number }).port;
});

afterEach(async () => {
  await new Promise((resolve) => listener.close(resolve));
  await rm(root, { recursive: true, force: true });
});

/** A list with the loopback relay and one line that draws a warning (an unknown key). */
const listText = (): string => `127.0.0.1:${port}\n198.18.0.1 colour=blue\n`;

async function setUp(options: { state: 'kept' | 'waiting'; selectedFrom?: string }) {
  const stateDir = join(root, 'state');
  const relayList = join(root, 'relays.dat');
  await writeFile(relayList, listText());
  await cacheRelayList(stateDir, listText());
  const now = Date.now();
  const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  const base = {
    version: 1 as const,
    clientId: 'cycle-test',
    lastSelectionAt: iso(-60_000),
    lastAttemptAt: iso(-60_000),
    failingSince: null,
    retry: null,
  };
  const current = {
    host: '127.0.0.1',
    port,
    address: '127.0.0.1',
    distance: 1,
    rttMs: 0.2,
    pool: '*all*',
    method: 'echo-ttl',
    registeredAt: iso(-60_000),
  };
  const state: State =
    options.state === 'kept'
      ? { ...base, current, relayListDigest: digestRelayList(options.selectedFrom ?? listText()) }
      : {
          ...base,
          current: null,
          lastSelectionAt: null,
          retry: { attempt: 1, nextAt: iso(3_600_000), delaySeconds: 3600, reason: 'no relay answered' },
        };
  await createStateStore(stateDir).write(state);
  return {
    stateDir,
    relayList,
    cycleSettings: settings({ stateDir, relayList, clientId: 'cycle-test', register: { mode: 'none' } }),
  };
}

const listWarnings = (warnings: string[]): string[] =>
  warnings.filter((warning) => warning.includes('unknown key "colour"'));

describe('runCycle with an unchanged relay list', () => {
  it('keeps a healthy relay chosen from this very list without parsing it again', async () => {
    const { cycleSettings } = await setUp({ state: 'kept' });
    const report = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(report).toMatchObject({ action: 'kept', rule: 'healthy' });
    expect(listWarnings(report.warnings)).toEqual([]);
  });

  it('keeps a failover relay the settings still name without parsing the list', async () => {
    const { cycleSettings, stateDir } = await setUp({ state: 'kept' });
    const store = createStateStore(stateDir);
    const { state } = await store.read();
    await store.write({ ...state!, current: { ...state!.current!, pool: 'failover', method: 'failover' } });
    const report = await runCycle({
      settings: { ...cycleSettings, failoverRelays: [`127.0.0.1:${port}`] },
      version: 'test',
    });
    expect(report).toMatchObject({ action: 'kept', rule: 'healthy' });
    expect(listWarnings(report.warnings)).toEqual([]);
  });

  it('parses it (and warns) when the relay was chosen from another list, keeps the relay it finds there, and remembers that this list has it', async () => {
    const { cycleSettings, stateDir } = await setUp({ state: 'kept', selectedFrom: '198.18.0.9\n' });
    const report = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(report).toMatchObject({ action: 'kept', rule: 'healthy' });
    expect(listWarnings(report.warnings)).toHaveLength(1);
    expect((await createStateStore(stateDir).read()).state?.relayListDigest).toBe(digestRelayList(listText()));
    // The next run takes the list unchanged and knows the relay is in it: no parse, no warning.
    const next = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(next).toMatchObject({ action: 'kept', rule: 'healthy' });
    expect(listWarnings(next.warnings)).toEqual([]);
  });

  it('parses a changed list, warns, and caches it', async () => {
    const { cycleSettings, relayList, stateDir } = await setUp({ state: 'kept' });
    const changed = `# changed\n${listText()}`;
    await writeFile(relayList, changed);
    const report = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(report).toMatchObject({ action: 'kept', rule: 'healthy' });
    expect(listWarnings(report.warnings)).toHaveLength(1);
    expect((await readCachedRelayList(stateDir))?.text).toBe(changed);
  });

  it('gives a cache written before the digest line that line, once, and then takes the digest from it', async () => {
    const { cycleSettings, stateDir } = await setUp({ state: 'kept' });
    await writeFile(join(stateDir, 'relay-list.cache'), listText());
    const first = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(first).toMatchObject({ action: 'kept', rule: 'healthy' });
    expect(listWarnings(first.warnings)).toEqual([]);
    expect(await readCachedRelayList(stateDir)).toEqual({ text: listText(), digest: digestRelayList(listText()) });
    const second = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(second).toMatchObject({ action: 'kept', rule: 'healthy' });
  });

  it('waits for a pending retry without parsing it; a changed list is parsed as before', async () => {
    const { cycleSettings, relayList } = await setUp({ state: 'waiting' });
    const unchanged = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(unchanged).toMatchObject({ action: 'waiting', rule: 'retry-pending' });
    expect(listWarnings(unchanged.warnings)).toEqual([]);
    await writeFile(relayList, `${listText()}# changed\n`);
    const changed = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(changed).toMatchObject({ action: 'waiting' });
    expect(listWarnings(changed.warnings)).toHaveLength(1);
  });

  it.skipIf(!isRoot)(
    `as root, refuses a list others can write even when it is byte for byte the cached copy${isRoot ? '' : ' — skipped: needs root'}`,
    async () => {
      const { cycleSettings, relayList } = await setUp({ state: 'kept' });
      await chmod(relayList, 0o666);
      await expect(runCycle({ settings: cycleSettings, version: 'test' })).rejects.toMatchObject({
        code: 'FILE_UNTRUSTED',
        message: `relay list ${relayList} is not trusted: owned by uid 0, mode 0666`,
      });
    },
  );

  it('with a metrics file, counts the refused lines once and keeps the count for the runs that take the list unchanged', async () => {
    const { cycleSettings, relayList, stateDir } = await setUp({ state: 'waiting' });
    const withBadLine = `${listText()}198.18.0.256\n`;
    await writeFile(relayList, withBadLine);
    await cacheRelayList(stateDir, withBadLine);
    const metricsFile = join(root, 'relay_select.prom');
    const refusedLines = async (): Promise<string | undefined> =>
      /relay_select_refused_inputs\{input="relay-list-line"\} (\d+)/.exec(await readFile(metricsFile, 'utf8'))?.[1];
    // The state has no count yet: this run parses the list to count (and so warns).
    const first = await runCycle({ settings: { ...cycleSettings, metricsFile }, version: 'test' });
    expect(first).toMatchObject({ action: 'waiting' });
    expect(listWarnings(first.warnings)).toHaveLength(1);
    expect(await refusedLines()).toBe('1');
    expect((await createStateStore(stateDir).read()).state?.relayListRefusedLines).toEqual({
      digest: digestRelayList(withBadLine),
      count: 1,
    });
    // The next one takes the list unchanged: no parse, the same count.
    const second = await runCycle({ settings: { ...cycleSettings, metricsFile }, version: 'test' });
    expect(listWarnings(second.warnings)).toEqual([]);
    expect(await refusedLines()).toBe('1');
  });

  it('falls back to the cached copy when the list goes missing, and keeps the relay it finds there', async () => {
    const { cycleSettings, relayList, stateDir } = await setUp({ state: 'kept' });
    await rm(relayList);
    const report = await runCycle({ settings: cycleSettings, version: 'test' });
    expect(report).toMatchObject({ action: 'kept', rule: 'healthy' });
    expect(report.warnings).toContainEqual(
      expect.stringMatching(new RegExp(`; using the last good relay list cached in ${stateDir}$`)),
    );
    expect((await readCachedRelayList(stateDir))?.text).toBe(listText());
  });

  it('still refuses a missing list that has no cached copy', async () => {
    const stateDir = join(root, 'fresh');
    const report = runCycle({
      settings: settings({
        stateDir,
        relayList: join(root, 'missing.dat'),
        clientId: 'cycle-test',
        register: { mode: 'none' },
      }),
      version: 'test',
    });
    await expect(report).rejects.toMatchObject({ code: 'RELAY_LIST_MISSING' });
  });
});
