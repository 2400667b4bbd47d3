import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRelayListBuffer } from '../../src/relays/parse.js';
import { buildPools } from '../../src/relays/pools.js';
import { formatDiagnostic } from '../../src/relays/relay.js';

const samplesDirectory = fileURLToPath(new URL('../../relay-samples/', import.meta.url));

/** Directories and names that hold other kinds of samples (lab topologies, settings), not relay lists. */
const NOT_RELAY_LISTS = [/^labs$/, /^cron$/, /rc\.json$/, /config/, /settings/, /topolog/];

function listRelayLists(directory: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(directory).sort()) {
    if (NOT_RELAY_LISTS.some((pattern) => pattern.test(entry))) continue;
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) files.push(...listRelayLists(path));
    else if (/\.(dat|json)$/.test(entry)) files.push(path);
  }
  return files;
}

const relayLists = listRelayLists(samplesDirectory);

describe('relay-samples', () => {
  it('holds the relay lists the docs mention', () => {
    const names = relayLists.map((file) => relative(samplesDirectory, file));
    expect(names).toEqual(expect.arrayContaining(['branch-office.dat', 'internet-dmz.dat', 'large-1000.dat']));
  });

  it.each(relayLists.map((file) => [relative(samplesDirectory, file), file]))(
    '%s parses without errors',
    (_name, file) => {
      const result = parseRelayListBuffer(readFileSync(file), { file });
      const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').map(formatDiagnostic);
      expect(errors).toEqual([]);
      expect(result.rejected).toBe(false);
      expect(result.relays.length).toBeGreaterThan(0);
    },
  );

  it('branch-office.dat has 12 to 20 relays in at least three groups, priorities and weights', () => {
    const { relays, diagnostics } = parseRelayListBuffer(readFileSync(join(samplesDirectory, 'branch-office.dat')), {
      file: 'branch-office.dat',
    });
    expect(diagnostics).toEqual([]);
    expect(relays.length).toBeGreaterThanOrEqual(12);
    expect(relays.length).toBeLessThanOrEqual(20);
    expect(new Set(relays.flatMap((relay) => relay.groups)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(relays.map((relay) => relay.priority)).size).toBeGreaterThan(1);
    expect(new Set(relays.map((relay) => relay.weight)).size).toBeGreaterThan(1);
    const pools = buildPools(relays, ['Branch-Lyon', 'HQ', '*']);
    expect(pools.map((pool) => pool.relays.length).every((count) => count > 0)).toBe(true);
  });

  it('internet-dmz.dat gives a Corp pool and a DMZ pool for the seek list Corp;DMZ', () => {
    const { relays } = parseRelayListBuffer(readFileSync(join(samplesDirectory, 'internet-dmz.dat')), {
      file: 'internet-dmz.dat',
    });
    const [corp, dmz] = buildPools(relays, ['Corp', 'DMZ']);
    expect(corp?.relays.length).toBeGreaterThan(0);
    expect(dmz?.relays.length).toBeGreaterThan(2);
  });

  it('large-1000.dat has exactly 1000 relays and is what the generator makes', async () => {
    const text = readFileSync(join(samplesDirectory, 'large-1000.dat'), 'utf8');
    const { generateRelayList } = await import('../../bench/generate-relays.mjs');
    expect(text).toBe(generateRelayList(1000, { seed: 1 }));
    const { relays, diagnostics } = parseRelayListBuffer(Buffer.from(text), { file: 'large-1000.dat' });
    expect(diagnostics).toEqual([]);
    expect(relays).toHaveLength(1000);
  });

  it('uses only documentation and benchmarking addresses and corp.example names', () => {
    for (const file of relayLists) {
      for (const relay of parseRelayListBuffer(readFileSync(file), { file }).relays) {
        const ok =
          /^198\.(18|19)\.\d+\.\d+$/.test(relay.host) ||
          /^2001:db8(:|$)/i.test(relay.host) ||
          /(^|\.)corp\.example\.?$/.test(relay.host);
        expect(ok, `${relay.host} in ${file}`).toBe(true);
      }
    }
  });
});
