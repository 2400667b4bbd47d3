import { describe, expect, it } from 'vitest';
import {
  decodePeerMessage,
  encodePeerMessage,
  MAX_PEER_MESSAGE_BYTES,
  toPeerTableEntries,
} from '../../src/agent/peer-message.js';
import { KEY, OTHER_KEY, id, message, pool, result, table } from './builders.js';

describe('peer messages', () => {
  it('round-trip every type under the shared key', () => {
    const shared = table(pool(['198.19.0.1', '198.19.0.2']), { '198.19.0.1': 1, '198.19.0.2': 3 });
    for (const sent of [
      message({ type: 'announce', address: '2001:db8:2::5', leaseUntilMs: 123, solicit: true }),
      message({ type: 'request', pool: 'branch-lyon' }),
      message({ type: 'table', table: shared }),
    ]) {
      const datagram = encodePeerMessage(sent, KEY)!;
      expect(decodePeerMessage(datagram, KEY)).toEqual({ ok: true, message: sent });
    }
  });

  it('refuses a message under another key, and any changed byte', () => {
    const datagram = encodePeerMessage(message(), KEY)!;
    expect(decodePeerMessage(datagram, OTHER_KEY)).toEqual({ ok: false, reason: 'bad-mac' });
    for (const offset of [4, 20, 40, datagram.length - 2]) {
      const tampered = Buffer.from(datagram);
      tampered[offset]! ^= 1;
      expect(decodePeerMessage(tampered, KEY)).toEqual({ ok: false, reason: 'bad-mac' });
    }
  });

  it('refuses what is not a message of this protocol, authenticated or not', () => {
    expect(decodePeerMessage(Buffer.from('hello'), KEY)).toEqual({ ok: false, reason: 'malformed' });
    expect(decodePeerMessage(Buffer.from('XXXX'.padEnd(100, '.')), KEY)).toEqual({ ok: false, reason: 'malformed' });
    const wrongShape = encodePeerMessage(message(undefined, { from: 'not-an-id' }), KEY)!;
    expect(decodePeerMessage(wrongShape, KEY)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses an oversized datagram before checking anything, and will not encode one', () => {
    expect(decodePeerMessage(Buffer.alloc(MAX_PEER_MESSAGE_BYTES + 1), KEY)).toEqual({
      ok: false,
      reason: 'oversized',
    });
    const hosts = Array.from({ length: 3000 }, (_, index) => `198.19.${index >> 8}.${index & 255}`);
    const huge = table(pool(hosts), Object.fromEntries(hosts.map((host) => [host, 4])));
    expect(encodePeerMessage(message({ type: 'table', table: huge }), KEY)).toBeNull();
  });

  it('fits a thousand reachable relays of one pool in one datagram', () => {
    const hosts = Array.from({ length: 1000 }, (_, index) => `198.19.${index >> 8}.${index & 255}`);
    const large = table(pool(hosts), Object.fromEntries(hosts.map((host) => [host, 12])));
    const datagram = encodePeerMessage(message({ type: 'table', table: large }, { nonce: id('n2') }), KEY);
    expect(datagram).not.toBeNull();
    expect(datagram!.length).toBeLessThanOrEqual(MAX_PEER_MESSAGE_BYTES);
  });

  it('shares only the reachable relays of a measurement', () => {
    const entries = toPeerTableEntries([
      result('198.19.0.1', 2),
      result('198.19.0.2', null, 'unreachable'),
      result('198.19.0.3', null, 'tcp'),
    ]);
    expect(entries.map((entry) => [entry.key, entry.method])).toEqual([
      ['198.19.0.1:52311', 'echo-ttl'],
      ['198.19.0.3:52311', 'tcp'],
    ]);
  });
});
