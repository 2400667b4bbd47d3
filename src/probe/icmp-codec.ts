/**
 * ICMP / ICMPv6 echo packets: a pure encoder and decoders (no sockets). They accept what a socket hands
 * over — a raw IPv4 socket the packet with its IP header, a ping socket or a raw IPv6 socket the ICMP
 * message alone (its TTL / hop limit comes beside it), a ping socket's error queue the quoted original
 * echo request with the ICMP type and code beside it — and return a typed message, or null for anything
 * truncated, malformed or not ours to care about.
 */

const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;
const ICMP_DEST_UNREACHABLE = 3;
const ICMP_TIME_EXCEEDED = 11;
const ICMPV6_DEST_UNREACHABLE = 1;
const ICMPV6_TIME_EXCEEDED = 3;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;

const ICMP_HEADER_BYTES = 8;
const IPV6_HEADER_BYTES = 40;
const TIMESTAMP_BYTES = 8;
const BALANCE_BYTES = 2;
const IP_PROTOCOL_ICMP = 1;
const IP_PROTOCOL_ICMPV6 = 58;

interface EchoRequestFields {
  family: 4 | 6;
  /** 16-bit ICMP identifier. */
  identifier: number;
  /** 16-bit ICMP sequence number. */
  sequence: number;
  /** Send time carried in the payload (any monotonic nanosecond count). */
  timestampNs: bigint;
  /**
   * The ICMP checksum every echo of this flow carries, whatever its sequence and timestamp (see
   * encodeEchoRequest). 0xffff, which one's complement arithmetic cannot produce here, is taken as 0.
   * @default flowChecksumOf(identifier)
   */
  flowChecksum?: number;
}

interface EchoReplyMessage {
  kind: 'echo-reply';
  identifier: number;
  sequence: number;
  /** TTL / hop limit the reply arrived with; null when the socket did not report it. */
  replyTtl: number | null;
  /** The payload's send timestamp, when the payload is one of ours. */
  timestampNs: bigint | null;
}

interface QuotedEchoMessage {
  kind: 'time-exceeded' | 'unreachable';
  /** ICMP code (e.g. 0 = TTL exceeded in transit; for unreachable: net, host, port, admin…). */
  code: number;
  /** From the quoted original echo request. */
  identifier: number;
  sequence: number;
  /** Destination address of the quoted original packet, in canonical form ({@link canonicalAddress}). */
  originalDestination: string;
  replyTtl: number | null;
}

export type IcmpMessage = EchoReplyMessage | QuotedEchoMessage;

/** RFC 1071 Internet checksum (one's complement of the one's complement sum of 16-bit words). */
export function computeInternetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  const evenLength = bytes.length - (bytes.length % 2);
  for (let index = 0; index < evenLength; index += 2) sum += (bytes[index]! << 8) | bytes[index + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The checksum of a session's echoes when the caller names none: any fixed value will do, and deriving
 * it from the identifier keeps two sessions on one host from sharing it.
 */
export function flowChecksumOf(identifier: number): number {
  return (identifier ^ 0x5a5a) & 0xffff;
}

/**
 * An echo request: 8-byte header, the send timestamp (8 bytes) and a 2-byte balance word.
 *
 * ECMP-stable (Paris traceroute): routers that balance per flow hash the ICMP header's first words —
 * type, code, checksum, often the identifier — with the addresses. The sequence must change from
 * probe to probe (it is how replies and Time Exceeded quotes are matched), so the balance word is
 * chosen to cancel the sequence and timestamp out of the sum: every echo of one identifier to one
 * relay then has the same header checksum (`flowChecksum`), so a TTL-limited echo follows the path
 * the echo at the largest TTL took and expires on it.
 *
 * IPv4 carries that checksum. For ICMPv6 the field stays 0 because Linux computes it on raw ICMPv6
 * sockets (RFC 3542 §3.1: it needs the pseudo-header with the source address only the kernel knows);
 * the message's own sum is still held constant, and the pseudo-header is fixed per destination, so
 * the kernel's checksum is constant per relay too. The same holds on ping sockets, where the kernel
 * replaces the identifier with the socket's port and recomputes the checksum: a constant change.
 */
export function encodeEchoRequest(fields: EchoRequestFields): Buffer {
  const packet = Buffer.alloc(ICMP_HEADER_BYTES + TIMESTAMP_BYTES + BALANCE_BYTES);
  packet[0] = fields.family === 4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST;
  packet[1] = 0;
  packet.writeUInt16BE(fields.identifier & 0xffff, 4);
  packet.writeUInt16BE(fields.sequence & 0xffff, 6);
  packet.writeBigUInt64BE(BigInt.asUintN(64, fields.timestampNs), ICMP_HEADER_BYTES);
  const checksum = (fields.flowChecksum ?? flowChecksumOf(fields.identifier)) & 0xffff;
  // The sum (checksum field 0) must be ~checksum; the balance word adds what is missing, in one's complement.
  const wantedSum = ~(checksum === 0xffff ? 0 : checksum) & 0xffff;
  const balance = foldOnesComplement(wantedSum + (computeInternetChecksum(packet) & 0xffff));
  packet.writeUInt16BE(balance, ICMP_HEADER_BYTES + TIMESTAMP_BYTES);
  if (fields.family === 4) packet.writeUInt16BE(computeInternetChecksum(packet), 2);
  return packet;
}

/** Adds the carries back in until the value fits 16 bits (one's complement addition). */
function foldOnesComplement(value: number): number {
  let sum = value;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * Decodes what a raw ICMP (family 4, IP header included) or ICMPv6 (family 6) socket received. For IPv6,
 * `hopLimit` is the reply's hop limit from the socket's control message (IPV6_HOPLIMIT), if any.
 */
export function decodeIcmpPacket(
  packet: Uint8Array,
  family: 4 | 6,
  hopLimit: number | null = null,
): IcmpMessage | null {
  const bytes = asBuffer(packet);
  if (family === 4) {
    const header = readIpv4Header(bytes);
    if (header === null || header.protocol !== IP_PROTOCOL_ICMP) return null;
    return decodeIcmpv4(bytes.subarray(header.headerBytes), header.ttl);
  }
  return decodeIcmpv6(bytes, hopLimit);
}

/** Decodes an ICMP or ICMPv6 message without IP header (a ping socket's), with the TTL the socket reported. */
export function decodeIcmpMessage(icmp: Uint8Array, family: 4 | 6, replyTtl: number | null): IcmpMessage | null {
  return family === 4 ? decodeIcmpv4(asBuffer(icmp), replyTtl) : decodeIcmpv6(asBuffer(icmp), replyTtl);
}

interface QueuedIcmpError {
  family: 4 | 6;
  /** ICMP type and code of the error (sock_extended_err ee_type, ee_code). */
  type: number;
  code: number;
  /** The destination of the original packet (the address recvmsg reports for the error queue). */
  originalDestination: string;
}

/**
 * Decodes an ICMP error from a ping socket's error queue: `quoted` is the original echo request's ICMP
 * header (the kernel strips the quoted IP header). Errors that are neither Time Exceeded nor Destination
 * Unreachable, and quotes of anything but an echo request, are null.
 */
export function decodeQueuedIcmpError(quoted: Uint8Array, error: QueuedIcmpError): QuotedEchoMessage | null {
  const bytes = asBuffer(quoted);
  const timeExceeded = error.family === 4 ? ICMP_TIME_EXCEEDED : ICMPV6_TIME_EXCEEDED;
  const unreachable = error.family === 4 ? ICMP_DEST_UNREACHABLE : ICMPV6_DEST_UNREACHABLE;
  if (error.type !== timeExceeded && error.type !== unreachable) return null;
  if (bytes.length < ICMP_HEADER_BYTES || bytes[0] !== (error.family === 4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST))
    return null;
  return {
    kind: error.type === timeExceeded ? 'time-exceeded' : 'unreachable',
    code: error.code,
    identifier: bytes.readUInt16BE(4),
    sequence: bytes.readUInt16BE(6),
    originalDestination: canonicalAddress(error.originalDestination),
    replyTtl: null,
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function readIpv4Header(bytes: Buffer): { headerBytes: number; ttl: number; protocol: number } | null {
  if (bytes.length < 20) return null;
  const versionAndIhl = bytes[0]!;
  if (versionAndIhl >> 4 !== 4) return null;
  const headerBytes = (versionAndIhl & 0x0f) * 4;
  if (headerBytes < 20 || bytes.length < headerBytes) return null;
  return { headerBytes, ttl: bytes[8]!, protocol: bytes[9]! };
}

/** The destination of an IPv4 header read by {@link readIpv4Header}, dotted: only quoted headers need it. */
function ipv4DestinationOf(header: Buffer): string {
  return `${header[16]}.${header[17]}.${header[18]}.${header[19]}`;
}

function decodeIcmpv4(icmp: Buffer, replyTtl: number | null): IcmpMessage | null {
  if (icmp.length < ICMP_HEADER_BYTES) return null;
  const type = icmp[0]!;
  if (type === ICMP_ECHO_REPLY) return decodeEchoReply(icmp, replyTtl);
  if (type !== ICMP_TIME_EXCEEDED && type !== ICMP_DEST_UNREACHABLE) return null;
  const quoted = icmp.subarray(ICMP_HEADER_BYTES);
  const inner = readIpv4Header(quoted);
  if (inner === null || inner.protocol !== IP_PROTOCOL_ICMP) return null;
  const innerIcmp = quoted.subarray(inner.headerBytes);
  if (innerIcmp.length < ICMP_HEADER_BYTES || innerIcmp[0] !== ICMP_ECHO_REQUEST) return null;
  return {
    kind: type === ICMP_TIME_EXCEEDED ? 'time-exceeded' : 'unreachable',
    code: icmp[1]!,
    identifier: innerIcmp.readUInt16BE(4),
    sequence: innerIcmp.readUInt16BE(6),
    originalDestination: ipv4DestinationOf(quoted),
    replyTtl,
  };
}

function decodeIcmpv6(icmp: Buffer, hopLimit: number | null): IcmpMessage | null {
  if (icmp.length < ICMP_HEADER_BYTES) return null;
  const type = icmp[0]!;
  if (type === ICMPV6_ECHO_REPLY) return decodeEchoReply(icmp, hopLimit);
  if (type !== ICMPV6_TIME_EXCEEDED && type !== ICMPV6_DEST_UNREACHABLE) return null;
  const quoted = icmp.subarray(ICMP_HEADER_BYTES);
  // Only a plain quoted header is understood: echo requests carry no extension headers.
  if (
    quoted.length < IPV6_HEADER_BYTES + ICMP_HEADER_BYTES ||
    quoted[0]! >> 4 !== 6 ||
    quoted[6] !== IP_PROTOCOL_ICMPV6
  )
    return null;
  const innerIcmp = quoted.subarray(IPV6_HEADER_BYTES);
  if (innerIcmp[0] !== ICMPV6_ECHO_REQUEST) return null;
  return {
    kind: type === ICMPV6_TIME_EXCEEDED ? 'time-exceeded' : 'unreachable',
    code: icmp[1]!,
    identifier: innerIcmp.readUInt16BE(4),
    sequence: innerIcmp.readUInt16BE(6),
    originalDestination: formatIpv6(quoted.subarray(24, 40)),
    replyTtl: hopLimit,
  };
}

function decodeEchoReply(icmp: Buffer, replyTtl: number | null): EchoReplyMessage {
  return {
    kind: 'echo-reply',
    identifier: icmp.readUInt16BE(4),
    sequence: icmp.readUInt16BE(6),
    replyTtl,
    timestampNs: icmp.length >= ICMP_HEADER_BYTES + TIMESTAMP_BYTES ? icmp.readBigUInt64BE(ICMP_HEADER_BYTES) : null,
  };
}

/** 16 bytes → the canonical compressed text form (RFC 5952), as sockets report addresses. */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(((bytes[index]! << 8) | bytes[index + 1]!).toString(16));
  return canonicalAddress(groups.join(':'));
}

/** One spelling per address so that matching never fails on `2001:DB8:0::1` vs `2001:db8::1`. */
export function canonicalAddress(address: string): string {
  if (!address.includes(':')) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

/** The ICMPv6 types a prober needs to hear: echo reply, Time Exceeded, Destination Unreachable. */
export const ICMPV6_TYPES_HEARD: readonly number[] = [ICMPV6_ECHO_REPLY, ICMPV6_TIME_EXCEEDED, ICMPV6_DEST_UNREACHABLE];
