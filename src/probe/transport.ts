/**
 * The edge between the probe engine and the network: send one echo request with a given TTL, hear every
 * ICMP message the host receives. The engine does the matching; a transport only moves packets.
 */
import { createRequire } from 'node:module';
import { RelaySelectError } from '../errors.js';
import { canonicalAddress, decodeIcmpPacket, encodeEchoRequest, type IcmpMessage } from './icmp-codec.js';

export interface ReceivedIcmp {
  family: 4 | 6;
  /** Sender of the ICMP message (the relay for echo replies, a router for time exceeded), canonical form. */
  source: string;
  message: IcmpMessage;
}

export interface IcmpTransport {
  /** Sends one echo request; resolves once it left (or rejects when the kernel refused it). */
  send(address: string, family: 4 | 6, ttl: number, identifier: number, sequence: number): Promise<void>;
  /** Every decoded ICMP message the host receives — also other programs' — goes to the listener. */
  onPacket(listener: (packet: ReceivedIcmp) => void): () => void;
  close(): void;
}

/** The subset of raw-socket 1.8 we use (it ships no types). */
interface RawSocket {
  on(event: 'message', listener: (buffer: Buffer, source: string) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  setOption(level: number, option: number, value: number): void;
  send(buffer: Buffer, offset: number, length: number, address: string, before: () => void, after: (error: Error | null, bytes: number) => void): void;
  close(): void;
}
interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
  Protocol: { ICMP: number; ICMPv6: number };
  SocketLevel: { IPPROTO_IP: number; IPPROTO_IPV6: number };
  SocketOption: { IP_TTL: number; IPV6_UNICAST_HOPS: number };
}

/**
 * Transports with probes in flight. The native socket wrapper holds no reference to itself: if nothing in
 * JavaScript does, it is collected mid-probe and Node exits 0 with pending promises. Closing removes it.
 */
const liveTransports = new Set<IcmpTransport>();

export interface RawTransportOptions {
  /** Families to open a socket for. @default [4, 6] */
  families?: ReadonlyArray<4 | 6>;
}

/**
 * Opens raw ICMP sockets (needs root or CAP_NET_RAW). A family whose socket cannot be opened for a reason
 * other than permission (e.g. no IPv6 in the kernel) makes its sends fail, not the whole transport.
 */
export function createRawTransport(options: RawTransportOptions = {}): IcmpTransport {
  const raw = createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  const listeners = new Set<(packet: ReceivedIcmp) => void>();
  const sockets = new Map<4 | 6, RawSocket>();
  const openErrors = new Map<4 | 6, unknown>();
  for (const family of options.families ?? [4, 6]) {
    try {
      const socket = raw.createSocket(
        family === 4
          ? { protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4 }
          : { protocol: raw.Protocol.ICMPv6, addressFamily: raw.AddressFamily.IPv6 },
      );
      socket.on('message', (buffer, source) => {
        const message = decodeIcmpPacket(buffer, family);
        if (message === null) return;
        const packet: ReceivedIcmp = { family, source: canonicalAddress(source), message };
        for (const listener of listeners) listener(packet);
      });
      // Unhandled, an 'error' event (a failed receive) would crash the process; a failed send rejects on its own.
      socket.on('error', () => undefined);
      sockets.set(family, socket);
    } catch (error) {
      if (isPermissionError(error)) {
        for (const opened of sockets.values()) opened.close();
        throw new RelaySelectError('RAW_SOCKET_PERMISSION', 'cannot open a raw ICMP socket: permission denied', {
          cause: error,
          hint: 'run as root or grant CAP_NET_RAW: setcap cap_net_raw+ep "$(command -v node)"',
        });
      }
      openErrors.set(family, error);
    }
  }
  let closed = false;
  const transport: IcmpTransport = {
    send(address, family, ttl, identifier, sequence) {
      const socket = sockets.get(family);
      if (closed || socket === undefined) {
        return Promise.reject(new RelaySelectError('INTERNAL', `no IPv${family} ICMP socket`, { cause: openErrors.get(family) }));
      }
      const packet = encodeEchoRequest({ family, identifier, sequence, timestampNs: process.hrtime.bigint() });
      return new Promise<void>((resolve, reject) => {
        socket.send(
          packet,
          0,
          packet.length,
          address,
          // Set just before this packet leaves: raw-socket sends its queue in order, one at a time.
          () =>
            family === 4
              ? socket.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_TTL, ttl)
              : socket.setOption(raw.SocketLevel.IPPROTO_IPV6, raw.SocketOption.IPV6_UNICAST_HOPS, ttl),
          (error) => (error ? reject(error) : resolve()),
        );
      });
    },
    onPacket(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      for (const socket of sockets.values()) socket.close();
      liveTransports.delete(transport);
    },
  };
  liveTransports.add(transport);
  return transport;
}

function isPermissionError(error: unknown): boolean {
  const text = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}` : String(error);
  return /EPERM|EACCES|Operation not permitted|Permission denied/i.test(text);
}
