/**
 * The edge between the probe engine and the network: send one echo request with a given TTL, hear the
 * ICMP messages that may answer it. The engine does the matching; a transport only moves packets.
 * Implementations: the ICMP socket transport (icmp-socket-transport.ts, ping or raw sockets through our
 * addon) and the simulated network of memory-transport.ts.
 */
import type { IcmpMessage } from './icmp-codec.js';

export interface ReceivedIcmp {
  family: 4 | 6;
  /** Sender of the ICMP message (the relay for echo replies, a router for time exceeded), canonical form. */
  source: string;
  message: IcmpMessage;
  /**
   * When the kernel received it (SO_TIMESTAMPNS, CLOCK_REALTIME, ns); pairs with SendReceipt.sentAtNs so a
   * busy event loop does not lengthen round trips. Absent when the transport has no kernel timestamps.
   */
  receivedAtNs?: bigint;
}

export interface SendReceipt {
  /** CLOCK_REALTIME (ns) just before the packet was handed to the kernel. */
  sentAtNs?: bigint;
}

/** Which kind of ICMP socket a transport uses and what allowed it (reported by `probe --json`). */
export interface TransportDescription {
  kind: 'ping' | 'raw' | 'memory';
  /** `ping_group_range` (ping sockets, no capability), `CAP_NET_RAW` (raw sockets), `none` (simulated). */
  privilege: 'ping_group_range' | 'CAP_NET_RAW' | 'none';
}

export interface IcmpTransport {
  /** Sends one echo request; resolves once it left (or rejects when the kernel refused it). */
  send(address: string, family: 4 | 6, ttl: number, identifier: number, sequence: number): Promise<SendReceipt | void>;
  /** Every decoded ICMP message the transport hears — with raw sockets also other programs' — goes to the listener. */
  onPacket(listener: (packet: ReceivedIcmp) => void): () => void;
  /**
   * The ICMP identifier the kernel puts into this family's echo requests whatever the caller asked for
   * (a ping socket's local "port"); matching must use it. Undefined or null: the caller's identifier is sent.
   */
  fixedIdentifier?(family: 4 | 6): number | null;
  /** Delivers, synchronously, whatever has arrived but not yet been heard (a timeout calls it before giving up). */
  flush?(): void;
  /** What kind of socket this is and which privilege it relies on. */
  readonly description?: TransportDescription;
  close(): void;
}
