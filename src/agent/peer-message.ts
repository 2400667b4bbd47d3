/**
 * The peer protocol's messages and their wire form (DESIGN §13). Pure: bytes and a key in, a message
 * or the reason it was refused out; the clock, the nonce source and the socket belong to the caller.
 *
 * A datagram is `RSP1` (4 bytes) · HMAC-SHA256 (32 bytes) · body (UTF-8 JSON). The MAC covers the magic
 * and the body, so nothing of a message can be changed or forged without the key. Every body names its
 * sender, its election group, when it was sent and a random nonce, which the replay window checks.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ProbeMethod, ProbeResult } from '../probe/types.js';

const MAGIC = Buffer.from('RSP1', 'latin1');
const MAC_BYTES = 32;
const HEADER_BYTES = MAGIC.length + MAC_BYTES;
/**
 * Larger datagrams are refused unread. One UDP datagram carries a whole message: about 1000 reachable
 * relays of one pool fit in a table.
 */
export const MAX_PEER_MESSAGE_BYTES = 60_000;
const PROTOCOL_VERSION = 1;

/** Identifiers (member ids, group ids, nonces) are 32 hexadecimal digits: 128 random or hashed bits. */
const ID_PATTERN = /^[0-9a-f]{32}$/;

/** What every message carries. */
interface Envelope {
  /** Member id of the sender, random per agent start. */
  from: string;
  /** The election group (see peerGroupOf): link-local agents with another relay list or seek list ignore it. */
  group: string;
  /** Sender's wall clock, ms since the epoch. */
  sentAtMs: number;
  nonce: string;
}

/** Heartbeat: "I am here", and for the leader "my lease runs until". */
interface AnnounceBody {
  type: 'announce';
  /** The sender's own address on the link (what `status` shows for the leader; datagrams may come from a link-local one). */
  address: string;
  /** Set by the leader only: its claim lasts until then unless renewed. */
  leaseUntilMs: number | null;
  /** A newly started agent asks everyone to announce themselves now instead of at their next heartbeat. */
  solicit: boolean;
}

/** A follower asks the leader for the measurements of one pool. */
interface RequestBody {
  type: 'request';
  pool: string;
}

/** One relay of a shared pool measurement (unreachable relays are left out: the pool's relayCount says how many there are). */
interface PeerTableEntry {
  key: string;
  address: string;
  distance: number | null;
  rttMs: number | null;
  method: Exclude<ProbeMethod, 'unreachable'>;
}

export interface PeerTablePool {
  name: string;
  /** Relays the pool has in the leader's list; a follower's pool must have as many. */
  relayCount: number;
  measuredAtMs: number;
  validUntilMs: number;
  entries: PeerTableEntry[];
}

/** What a leader measured and shares (DESIGN §13): per pool, the reachable relays with distances. */
export interface PeerTable {
  /** sha256 of the leader's relay list text. */
  relayListDigest: string;
  seekList: string[];
  pools: PeerTablePool[];
}

interface TableBody {
  type: 'table';
  table: PeerTable;
}

export type PeerMessageBody = AnnounceBody | RequestBody | TableBody;
export type PeerMessage = Envelope & PeerMessageBody;

/** Why a datagram was refused before it reached the protocol. */
export type DecodeRejection = 'oversized' | 'malformed' | 'bad-mac';

const METHOD_CODES = { 'echo-ttl': 'e', ladder: 'l', tcp: 't' } as const satisfies Record<
  PeerTableEntry['method'],
  string
>;
const METHOD_BY_CODE = { e: 'echo-ttl', l: 'ladder', t: 'tcp' } as const;

const nullableCount = z.number().int().min(0).max(255).nullable();
const wireEntry = z.tuple([
  z.string().min(1).max(300),
  z.string().min(1).max(64),
  nullableCount,
  z.number().finite().min(0).max(3_600_000).nullable(),
  z.enum(['e', 'l', 't']),
]);
const wirePool = z.object({
  n: z.string().min(1).max(64),
  c: z.number().int().min(0).max(1_000_000),
  m: z.number().int().min(0),
  v: z.number().int().min(0),
  r: z.array(wireEntry).max(10_000),
});
const wireTable = z.object({
  d: z.string().regex(/^[0-9a-f]{64}$/),
  s: z.array(z.string().min(1).max(64)).max(256),
  p: z.array(wirePool).max(256),
});
const wireBody = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('announce'),
    h: z.string().min(1).max(64),
    l: z.number().int().min(0).nullable(),
    q: z.boolean(),
  }),
  z.object({ t: z.literal('request'), p: z.string().min(1).max(64) }),
  z.object({ t: z.literal('table'), b: wireTable }),
]);
const wireEnvelope = z.object({
  v: z.literal(PROTOCOL_VERSION),
  f: z.string().regex(ID_PATTERN),
  g: z.string().regex(ID_PATTERN),
  a: z.number().int().min(0),
  n: z.string().regex(ID_PATTERN),
});

function toWireBody(body: PeerMessageBody): Record<string, unknown> {
  switch (body.type) {
    case 'announce':
      return { t: 'announce', h: body.address, l: body.leaseUntilMs, q: body.solicit };
    case 'request':
      return { t: 'request', p: body.pool };
    case 'table':
      return {
        t: 'table',
        b: {
          d: body.table.relayListDigest,
          s: body.table.seekList,
          p: body.table.pools.map((pool) => ({
            n: pool.name,
            c: pool.relayCount,
            m: pool.measuredAtMs,
            v: pool.validUntilMs,
            r: pool.entries.map((entry) => [
              entry.key,
              entry.address,
              entry.distance,
              entry.rttMs,
              METHOD_CODES[entry.method],
            ]),
          })),
        },
      };
  }
}

function fromWireBody(body: z.infer<typeof wireBody>): PeerMessageBody {
  switch (body.t) {
    case 'announce':
      return { type: 'announce', address: body.h, leaseUntilMs: body.l, solicit: body.q };
    case 'request':
      return { type: 'request', pool: body.p };
    case 'table':
      return {
        type: 'table',
        table: {
          relayListDigest: body.b.d,
          seekList: body.b.s,
          pools: body.b.p.map((pool) => ({
            name: pool.n,
            relayCount: pool.c,
            measuredAtMs: pool.m,
            validUntilMs: pool.v,
            entries: pool.r.map(([key, address, distance, rttMs, code]) => ({
              key,
              address,
              distance,
              rttMs,
              method: METHOD_BY_CODE[code],
            })),
          })),
        },
      };
  }
}

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(MAGIC).update(body).digest();
}

/**
 * The datagram of a message, or `null` when it would exceed {@link MAX_PEER_MESSAGE_BYTES} (a table of
 * too many relays: the caller says so and the followers probe for themselves).
 */
export function encodePeerMessage(message: PeerMessage, key: Buffer): Buffer | null {
  const body = Buffer.from(
    JSON.stringify({
      v: PROTOCOL_VERSION,
      f: message.from,
      g: message.group,
      a: message.sentAtMs,
      n: message.nonce,
      ...toWireBody(message),
    }),
    'utf8',
  );
  if (HEADER_BYTES + body.length > MAX_PEER_MESSAGE_BYTES) return null;
  return Buffer.concat([MAGIC, mac(key, body), body]);
}

/**
 * The message in a datagram, once its size, MAC and shape are right. The MAC is checked before the body
 * is parsed, so a peer without the key cannot make us parse anything.
 */
export function decodePeerMessage(
  datagram: Buffer,
  key: Buffer,
): { ok: true; message: PeerMessage } | { ok: false; reason: DecodeRejection } {
  if (datagram.length > MAX_PEER_MESSAGE_BYTES) return { ok: false, reason: 'oversized' };
  if (datagram.length <= HEADER_BYTES || !datagram.subarray(0, MAGIC.length).equals(MAGIC))
    return { ok: false, reason: 'malformed' };
  const body = datagram.subarray(HEADER_BYTES);
  if (!timingSafeEqual(datagram.subarray(MAGIC.length, HEADER_BYTES), mac(key, body)))
    return { ok: false, reason: 'bad-mac' };
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const envelope = wireEnvelope.safeParse(json);
  const parsedBody = wireBody.safeParse(json);
  if (!envelope.success || !parsedBody.success) return { ok: false, reason: 'malformed' };
  const { f: from, g: group, a: sentAtMs, n: nonce } = envelope.data;
  return { ok: true, message: { from, group, sentAtMs, nonce, ...fromWireBody(parsedBody.data) } };
}

/** A pool's measurements as a table shares them: only the reachable relays. */
export function toPeerTableEntries(results: readonly ProbeResult[]): PeerTableEntry[] {
  const entries: PeerTableEntry[] = [];
  for (const result of results) {
    if (result.method === 'unreachable' || result.address === null) continue;
    entries.push({
      key: result.key,
      address: result.address,
      distance: result.distance,
      rttMs: result.rttMs,
      method: result.method,
    });
  }
  return entries;
}
