// The state directories a cron no-op meets, for the runs that train the code cache
// (scripts/train-code-cache.mjs), the start-up benchmark (bench/startup.mjs) and the test of what a no-op
// loads (test/cli/startup-imports.test.ts): one that is empty (the first run, or `status` before it), one
// that keeps a relay chosen a minute ago (`kept`), one that waits for a retry an hour ahead (`waiting`);
// a relay list and a config naming it (register.mode none: the health check is a TCP connect).
//
// Every relay is a loopback address (127.0.0.0/8), the first one a TCP listener at `port` the caller
// runs: a run that selected after all would send nothing off this host.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Writes the fixtures under `directory` (which must exist).
 * @param {string} directory
 * @param {{ port: number, otherRelays?: number, kept?: Record<string, unknown> }} options
 *   otherRelays: loopback relays besides the listener (never contacted; 1 by default);
 *   kept: fields added to the kept state (a test adds the relay list's digest, as a selection records it)
 * @returns {{ stateDirs: { empty: string, kept: string, waiting: string }, relayList: string, relayListText: string, config: string, metricsFile: string }}
 */
export function writeNoOpFixtures(directory, { port, otherRelays = 1, kept = {} }) {
  const now = Date.now();
  const iso = (offsetMs) => new Date(now + offsetMs).toISOString();
  const stateDirs = {
    empty: join(directory, 'state-empty'),
    kept: join(directory, 'state-kept'),
    waiting: join(directory, 'state-waiting'),
  };
  for (const stateDir of Object.values(stateDirs)) mkdirSync(stateDir, { mode: 0o700 });
  const base = {
    version: 1,
    clientId: 'no-op',
    lastSelectionAt: iso(-60_000),
    lastAttemptAt: iso(-60_000),
    failingSince: null,
  };
  const relay = {
    host: '127.0.0.1',
    port,
    address: '127.0.0.1',
    distance: 1,
    rttMs: 0.1,
    pool: '*all*',
    method: 'echo-ttl',
    registeredAt: iso(-60_000),
  };
  for (const stateDir of [stateDirs.kept, stateDirs.waiting])
    writeFileSync(join(stateDir, 'client-id'), 'no-op\n', { mode: 0o600 });
  writeJson(join(stateDirs.kept, 'state.json'), { ...base, current: relay, retry: null, ...kept });
  // A pending retry far enough ahead that no run reaches it (the default maximum is 7200 s).
  writeJson(join(stateDirs.waiting, 'state.json'), {
    ...base,
    current: null,
    lastSelectionAt: null,
    retry: { attempt: 1, nextAt: iso(3_600_000), delaySeconds: 3600, reason: 'no relay answered' },
  });
  const others = Array.from(
    { length: otherRelays },
    (_, index) => `127.1.${Math.floor(index / 254)}.${(index % 254) + 1}`,
  );
  const relayListText = `127.0.0.1:${port}\n${others.join('\n')}\n`;
  const relayList = join(directory, 'relays.dat');
  writeFileSync(relayList, relayListText, { mode: 0o600 });
  const config = join(directory, 'config.json');
  writeJson(config, { relayList, register: { mode: 'none' } });
  return { stateDirs, relayList, relayListText, config, metricsFile: join(directory, 'relay_select.prom') };
}
