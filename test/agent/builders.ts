import type { PeerMessage, PeerMessageBody, PeerTable } from '../../src/agent/peer-message.js';
import type { ProbeResult, ProbeTarget } from '../../src/probe/types.js';
import type { Pool, Relay } from '../../src/relays/relay.js';

export const KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');
export const OTHER_KEY = Buffer.from('fedcba9876543210fedcba9876543210', 'utf8');
export const DIGEST = 'a'.repeat(64);

/** A 32-hex id from a short tag, e.g. id('m1'). */
export const id = (tag: string): string => Buffer.from(tag.padEnd(16, '.')).toString('hex').slice(0, 32);

/** A message: an announcement unless `body` says otherwise; envelope fields overridable. */
export function message(
  body: PeerMessageBody = { type: 'announce', address: '198.18.255.2', leaseUntilMs: null, solicit: false },
  envelope: Partial<Pick<PeerMessage, 'from' | 'group' | 'sentAtMs' | 'nonce'>> = {},
): PeerMessage {
  return {
    from: id('m1'),
    group: id('g'),
    sentAtMs: Date.parse('2024-01-01T00:00:00Z'),
    nonce: id('n1'),
    ...envelope,
    ...body,
  };
}

export function relay(host: string, overrides: Partial<Relay> = {}): Relay {
  return { host, port: 52311, groups: [], priority: 0, weight: 100, ...overrides };
}

export function pool(hosts: string[], name = 'all'): Pool {
  return { name, relays: hosts.map((host) => relay(host)) };
}

export function targets(poolValue: Pool): ProbeTarget[] {
  return poolValue.relays.map((entry) => ({
    key: `${entry.host}:${entry.port}`,
    host: entry.host,
    address: entry.host,
    family: 4,
    port: entry.port,
  }));
}

export function result(host: string, distance: number | null, method: ProbeResult['method'] = 'echo-ttl'): ProbeResult {
  return {
    key: `${host}:52311`,
    host,
    address: host,
    distance,
    rttMs: distance === null ? null : distance + 0.5,
    method,
  };
}

export function table(
  poolValue: Pool,
  distances: Record<string, number>,
  overrides: Partial<PeerTable['pools'][number]> = {},
  nowMs = Date.parse('2024-01-01T00:00:00Z'),
): PeerTable {
  return {
    relayListDigest: DIGEST,
    seekList: [],
    pools: [
      {
        name: poolValue.name,
        relayCount: poolValue.relays.length,
        measuredAtMs: nowMs,
        validUntilMs: nowMs + 60_000,
        entries: Object.entries(distances).map(([host, distance]) => ({
          key: `${host}:52311`,
          address: host,
          distance,
          rttMs: 1,
          method: 'echo-ttl' as const,
        })),
        ...overrides,
      },
    ],
  };
}
