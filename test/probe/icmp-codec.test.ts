import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalAddress,
  computeInternetChecksum,
  decodeIcmpPacket,
  encodeEchoRequest,
  flowChecksumOf,
  formatIpv6,
} from '../../src/probe/icmp-codec.js';

/** An IPv4 header (20 bytes, no options) around `payload`. */
function ipv4(
  payload: Buffer,
  options: { ttl: number; protocol?: number; source?: string; destination: string },
): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + payload.length, 2);
  header[8] = options.ttl;
  header[9] = options.protocol ?? 1;
  Buffer.from((options.source ?? '198.18.0.1').split('.').map(Number)).copy(header, 12);
  Buffer.from(options.destination.split('.').map(Number)).copy(header, 16);
  header.writeUInt16BE(computeInternetChecksum(header), 10);
  return Buffer.concat([header, payload]);
}

function icmpError(type: number, code: number, quoted: Buffer): Buffer {
  const header = Buffer.from([type, code, 0, 0, 0, 0, 0, 0]);
  const message = Buffer.concat([header, quoted]);
  message.writeUInt16BE(computeInternetChecksum(message), 2);
  return message;
}

describe('computeInternetChecksum', () => {
  it('matches the RFC 1071 worked example', () => {
    expect(computeInternetChecksum(Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(0x220d);
  });
  it('matches a ping of identifier 1, sequence 1 without payload', () => {
    expect(computeInternetChecksum(Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]))).toBe(0xf7fd);
  });
  it('pads an odd length with a zero byte', () => {
    expect(computeInternetChecksum(Buffer.from([0x12, 0x34, 0x56]))).toBe(
      computeInternetChecksum(Buffer.from([0x12, 0x34, 0x56, 0x00])),
    );
  });
  it('sums to zero over a packet that carries its checksum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (identifier, sequence, timestampNs) => {
          expect(computeInternetChecksum(encodeEchoRequest({ family: 4, identifier, sequence, timestampNs }))).toBe(0);
        },
      ),
    );
  });
});

describe('encodeEchoRequest', () => {
  it('writes type, identifier, sequence and the timestamp payload', () => {
    const packet = encodeEchoRequest({ family: 4, identifier: 0xbeef, sequence: 7, timestampNs: 123456789n });
    expect(packet.length).toBe(18);
    expect(packet[0]).toBe(8);
    expect(packet.readUInt16BE(4)).toBe(0xbeef);
    expect(packet.readUInt16BE(6)).toBe(7);
    expect(packet.readBigUInt64BE(8)).toBe(123456789n);
  });
  it('leaves the ICMPv6 checksum to the kernel', () => {
    const packet = encodeEchoRequest({ family: 6, identifier: 1, sequence: 2, timestampNs: 3n });
    expect(packet[0]).toBe(128);
    expect(packet.readUInt16BE(2)).toBe(0);
  });
});

describe('encodeEchoRequest — one flow identity per session (Paris traceroute)', () => {
  const uint16 = fc.integer({ min: 0, max: 0xffff });
  const timestamp = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  /** Two echo requests of one session (same identifier), any sequences and timestamps. */
  const sameSession = (family: 4 | 6) =>
    fc
      .tuple(uint16, uint16, timestamp, uint16, timestamp)
      .map(([identifier, sequence, timestampNs, otherSequence, otherTimestampNs]) => ({
        identifier,
        otherSequence,
        first: encodeEchoRequest({ family, identifier, sequence, timestampNs }),
        second: encodeEchoRequest({ family, identifier, sequence: otherSequence, timestampNs: otherTimestampNs }),
      }));

  it('holds the IPv4 checksum at the flow value whatever the sequence and timestamp', () => {
    fc.assert(
      fc.property(sameSession(4), ({ identifier, otherSequence, first, second }) => {
        expect(first.readUInt16BE(2)).toBe(flowChecksumOf(identifier));
        expect(second.readUInt16BE(2)).toBe(first.readUInt16BE(2));
        // Identifier and sequence still stand where receivers and routers read them.
        expect(second.readUInt16BE(4)).toBe(identifier);
        expect(second.readUInt16BE(6)).toBe(otherSequence);
      }),
    );
  });

  it('takes any flow checksum, 0 and 0xfffe included, and the packet still checks', () => {
    fc.assert(
      fc.property(
        fc.oneof(uint16, fc.constantFrom(0, 1, 0xfffe, 0xffff)),
        uint16,
        uint16,
        timestamp,
        (flowChecksum, identifier, sequence, timestampNs) => {
          const packet = encodeEchoRequest({ family: 4, identifier, sequence, timestampNs, flowChecksum });
          expect(packet.readUInt16BE(2)).toBe(flowChecksum === 0xffff ? 0 : flowChecksum);
          expect(computeInternetChecksum(packet)).toBe(0);
        },
      ),
    );
  });

  it('holds the ICMPv6 message sum constant, so the kernel-computed checksum is constant per relay', () => {
    fc.assert(
      fc.property(sameSession(6), ({ first, second }) => {
        expect(computeInternetChecksum(second)).toBe(computeInternetChecksum(first));
      }),
    );
  });

  it('gives two sessions different checksums', () => {
    const checksumOf = (identifier: number) =>
      encodeEchoRequest({ family: 4, identifier, sequence: 1, timestampNs: 1n }).readUInt16BE(2);
    expect(checksumOf(0x1234)).not.toBe(checksumOf(0x1235));
  });

  it('still decodes the timestamp the reply echoes back', () => {
    const request = encodeEchoRequest({ family: 4, identifier: 9, sequence: 10, timestampNs: 987654321n });
    const reply = Buffer.from(request);
    reply[0] = 0;
    reply.writeUInt16BE(0, 2);
    reply.writeUInt16BE(computeInternetChecksum(reply), 2);
    const decoded = decodeIcmpPacket(ipv4(reply, { ttl: 60, destination: '198.18.0.2' }), 4);
    expect(decoded).toMatchObject({
      kind: 'echo-reply',
      identifier: 9,
      sequence: 10,
      replyTtl: 60,
      timestampNs: 987654321n,
    });
  });
});

describe('decodeIcmpPacket', () => {
  it('decodes an IPv4 echo reply with its TTL and timestamp', () => {
    const reply = encodeEchoRequest({ family: 4, identifier: 42, sequence: 9, timestampNs: 555n });
    reply[0] = 0;
    const decoded = decodeIcmpPacket(ipv4(reply, { ttl: 61, destination: '198.18.0.2' }), 4);
    expect(decoded).toEqual({ kind: 'echo-reply', identifier: 42, sequence: 9, replyTtl: 61, timestampNs: 555n });
  });

  it('skips IPv4 options by the header length', () => {
    const reply = encodeEchoRequest({ family: 4, identifier: 1, sequence: 2, timestampNs: 0n });
    reply[0] = 0;
    const plain = ipv4(reply, { ttl: 50, destination: '198.18.0.2' });
    const withOptions = Buffer.concat([plain.subarray(0, 20), Buffer.alloc(4, 1), plain.subarray(20)]);
    withOptions[0] = 0x46;
    expect(decodeIcmpPacket(withOptions, 4)).toMatchObject({
      kind: 'echo-reply',
      identifier: 1,
      sequence: 2,
      replyTtl: 50,
    });
  });

  it('reads the quoted identifier, sequence and destination of a Time Exceeded', () => {
    const request = encodeEchoRequest({ family: 4, identifier: 1000, sequence: 65535, timestampNs: 1n });
    const quoted = ipv4(request, { ttl: 1, destination: '198.19.4.5' }).subarray(0, 28);
    const decoded = decodeIcmpPacket(ipv4(icmpError(11, 0, quoted), { ttl: 63, destination: '198.18.0.1' }), 4);
    expect(decoded).toEqual({
      kind: 'time-exceeded',
      code: 0,
      identifier: 1000,
      sequence: 65535,
      originalDestination: '198.19.4.5',
      replyTtl: 63,
    });
  });

  it('reads a Destination Unreachable the same way', () => {
    const quoted = ipv4(encodeEchoRequest({ family: 4, identifier: 5, sequence: 6, timestampNs: 1n }), {
      ttl: 3,
      destination: '198.18.9.9',
    });
    expect(decodeIcmpPacket(ipv4(icmpError(3, 1, quoted), { ttl: 64, destination: '198.18.0.1' }), 4)).toMatchObject({
      kind: 'unreachable',
      code: 1,
      identifier: 5,
      sequence: 6,
      originalDestination: '198.18.9.9',
    });
  });

  it('ignores echo requests, other protocols and errors quoting something other than an echo', () => {
    const request = encodeEchoRequest({ family: 4, identifier: 5, sequence: 6, timestampNs: 1n });
    expect(decodeIcmpPacket(ipv4(request, { ttl: 64, destination: '198.18.0.1' }), 4)).toBeNull();
    expect(decodeIcmpPacket(ipv4(Buffer.alloc(8), { ttl: 64, protocol: 17, destination: '198.18.0.1' }), 4)).toBeNull();
    const udpQuoted = ipv4(Buffer.alloc(8), { ttl: 1, protocol: 17, destination: '198.18.9.9' });
    expect(decodeIcmpPacket(ipv4(icmpError(11, 0, udpQuoted), { ttl: 64, destination: '198.18.0.1' }), 4)).toBeNull();
  });

  it('returns null for every truncation of valid packets', () => {
    const quoted = ipv4(encodeEchoRequest({ family: 4, identifier: 5, sequence: 6, timestampNs: 1n }), {
      ttl: 1,
      destination: '198.18.9.9',
    }).subarray(0, 28);
    const timeExceeded = ipv4(icmpError(11, 0, quoted), { ttl: 64, destination: '198.18.0.1' });
    for (let length = 0; length < timeExceeded.length; length += 1)
      expect(decodeIcmpPacket(timeExceeded.subarray(0, length), 4)).toBeNull();
    const v6Error = Buffer.concat([
      Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]),
      ipv6Header('2001:db8::9'),
      encodeEchoRequest({ family: 6, identifier: 1, sequence: 1, timestampNs: 0n }).subarray(0, 8),
    ]);
    for (let length = 0; length < v6Error.length; length += 1)
      expect(decodeIcmpPacket(v6Error.subarray(0, length), 6)).toBeNull();
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(4 as const, 6 as const), (bytes, family) => {
        const decoded = decodeIcmpPacket(bytes, family);
        expect(decoded === null || typeof decoded.kind === 'string').toBe(true);
      }),
    );
  });

  it('decodes ICMPv6 echo replies (no header, so no hop limit) and time exceeded', () => {
    const reply = encodeEchoRequest({ family: 6, identifier: 77, sequence: 3, timestampNs: 9n });
    reply[0] = 129;
    expect(decodeIcmpPacket(reply, 6)).toEqual({
      kind: 'echo-reply',
      identifier: 77,
      sequence: 3,
      replyTtl: null,
      timestampNs: 9n,
    });
    const request = encodeEchoRequest({ family: 6, identifier: 77, sequence: 4, timestampNs: 9n });
    const error = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), ipv6Header('2001:db8:0:7::2'), request]);
    expect(decodeIcmpPacket(error, 6)).toEqual({
      kind: 'time-exceeded',
      code: 0,
      identifier: 77,
      sequence: 4,
      originalDestination: '2001:db8:0:7::2',
      replyTtl: null,
    });
  });
});

describe('address spelling', () => {
  it('canonicalises IPv6 and leaves IPv4 alone', () => {
    expect(canonicalAddress('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(canonicalAddress('198.18.0.1')).toBe('198.18.0.1');
    expect(formatIpv6(Buffer.from('20010db8000000000000000000000001', 'hex'))).toBe('2001:db8::1');
  });
});

function ipv6Header(destination: string): Buffer {
  const header = Buffer.alloc(40);
  header[0] = 0x60;
  header[6] = 58;
  header[7] = 1;
  const groups = new URL(`http://[${destination}]/`).hostname.slice(1, -1);
  const [head, tail] = groups.split('::') as [string, string | undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const parts = [...headParts, ...Array<string>(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  parts.forEach((part, index) => header.writeUInt16BE(parseInt(part, 16), 24 + index * 2));
  return header;
}
