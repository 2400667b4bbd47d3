/**
 * Echo requests through our addon's ICMP sockets (src/native/icmp-socket.cc), IPv4 and IPv6, of one of
 * two kinds (setting probe.transport):
 * - ping sockets (SOCK_DGRAM): no capability, allowed where net.ipv4.ping_group_range admits one of the
 *   process's groups (both families; the sysctl is per network namespace). The kernel picks the ICMP
 *   identifier (the socket's local "port") and writes it into every request, hands the socket only the
 *   replies carrying it, and queues Time Exceeded / Unreachable on the socket's error queue (IP_RECVERR).
 * - raw sockets (SOCK_RAW): need CAP_NET_RAW and hear every ICMP message of the host.
 * `auto` opens ping sockets where allowed, else raw sockets, else fails with both fixes. Replies carry the
 * TTL / hop limit (IP_RECVTTL, IPV6_RECVHOPLIMIT) and the kernel's receive time (SO_TIMESTAMPNS).
 */
import { readFileSync } from 'node:fs';
import { RelaySelectError } from '../errors.js';
import {
  canonicalAddress,
  decodeIcmpMessage,
  decodeIcmpPacket,
  decodeQueuedIcmpError,
  encodeEchoRequest,
  ICMPV6_TYPES_HEARD,
  type IcmpMessage,
} from './icmp-codec.js';
import {
  errnoName,
  loadIcmpAddon,
  PING_SYSCTL_FIX,
  RAW_SOCKET_PERMISSION_HINT,
  toSocketError,
  type IcmpAddon,
  type NativeIcmpSocket,
  type NativeQueuedError,
} from './icmp-addon.js';
import type { IcmpTransport, ReceivedIcmp, TransportDescription } from './transport.js';

export type TransportKind = 'auto' | 'ping' | 'raw';

export interface IcmpSocketTransportOptions {
  /** Which sockets to use (setting probe.transport). @default 'auto' */
  kind?: TransportKind;
  /** Families to open a socket for. @default [4, 6] */
  families?: ReadonlyArray<4 | 6>;
}

/** Room for the replies of a burst while the event loop is busy; the kernel caps it at net.core.rmem_max. */
const RECEIVE_BUFFER_BYTES = 1 << 20;
const PING_GROUP_RANGE_FILE = '/proc/sys/net/ipv4/ping_group_range';

interface OpenedSocket {
  socket: NativeIcmpSocket;
  /** The kernel's ICMP identifier (ping sockets); null for raw sockets. */
  identifier: number | null;
}

/**
 * Opens the ICMP sockets for `families`. A family whose socket cannot be opened for a reason other than
 * permission (e.g. no IPv6 in the kernel) makes its sends fail, not the whole transport.
 * @throws RelaySelectError RAW_SOCKET_PERMISSION when no allowed kind is permitted, NATIVE_ADDON_MISSING
 * when the addon was not built, ICMP_SOCKET_FAILED when configuring a socket fails.
 */
export function openIcmpTransport(options: IcmpSocketTransportOptions = {}): IcmpTransport {
  const addon = loadIcmpAddon();
  const requested = options.kind ?? 'auto';
  const families = options.families ?? [4, 6];
  const refused: Array<'ping' | 'raw'> = [];
  for (const kind of requested === 'auto' ? (['ping', 'raw'] as const) : [requested]) {
    const transport = new SocketTransport(addon, kind);
    if (transport.open(families)) return transport;
    refused.push(kind);
  }
  throw describeRefusal(requested, refused);
}

class SocketTransport implements IcmpTransport {
  readonly description: TransportDescription;
  private readonly listeners = new Set<(packet: ReceivedIcmp) => void>();
  private readonly sockets = new Map<4 | 6, OpenedSocket>();
  private readonly openErrors = new Map<4 | 6, RelaySelectError>();
  private closed = false;

  constructor(
    private readonly addon: IcmpAddon,
    private readonly kind: 'ping' | 'raw',
  ) {
    this.description = { kind, privilege: kind === 'ping' ? 'ping_group_range' : 'CAP_NET_RAW' };
  }

  /** False when the kernel refused this kind for lack of permission (nothing stays open then). */
  open(families: ReadonlyArray<4 | 6>): boolean {
    for (const family of families) {
      let socket: NativeIcmpSocket;
      try {
        socket = new this.addon.IcmpSocket(family, this.kind, (bytes, address, ttl, receivedAtNs, error) =>
          this.hear(family, bytes, address, ttl, receivedAtNs, error),
        );
      } catch (error) {
        if (isPermissionRefusal(error)) {
          this.close();
          return false;
        }
        this.openErrors.set(family, toSocketError(error, `opening an IPv${family} ICMP ${this.kind} socket`));
        continue;
      }
      try {
        this.sockets.set(family, { socket, identifier: this.configure(socket, family) });
        socket.start();
      } catch (error) {
        socket.close();
        this.close();
        throw error instanceof RelaySelectError
          ? error
          : toSocketError(error, `setting up an IPv${family} ICMP ${this.kind} socket`);
      }
    }
    return true;
  }

  send(
    address: string,
    family: 4 | 6,
    ttl: number,
    identifier: number,
    sequence: number,
  ): Promise<{ sentAtNs: bigint }> {
    const opened = this.sockets.get(family);
    if (this.closed || opened === undefined) {
      return Promise.reject(
        this.openErrors.get(family) ??
          new RelaySelectError('ICMP_SOCKET_FAILED', `no IPv${family} ICMP socket is open`),
      );
    }
    const packet = encodeEchoRequest({
      family,
      identifier: opened.identifier ?? identifier,
      sequence,
      timestampNs: process.hrtime.bigint(),
    });
    try {
      return Promise.resolve({ sentAtNs: opened.socket.send(packet, address, ttl) });
    } catch (error) {
      return Promise.reject(toSocketError(error, `sending an echo request to ${address}`));
    }
  }

  onPacket(listener: (packet: ReceivedIcmp) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fixedIdentifier(family: 4 | 6): number | null {
    return this.sockets.get(family)?.identifier ?? null;
  }

  flush(): void {
    for (const { socket } of this.sockets.values()) if (!this.closed) socket.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    for (const { socket } of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  /** Asks for the reply TTL and the kernel timestamp (and for ping sockets the ICMP errors); returns the identifier. */
  private configure(socket: NativeIcmpSocket, family: 4 | 6): number | null {
    const { constants } = this.addon;
    socket.setIntOption(constants.SOL_SOCKET, constants.SO_TIMESTAMPNS, 1);
    socket.setIntOption(constants.SOL_SOCKET, constants.SO_RCVBUF, RECEIVE_BUFFER_BYTES);
    // A raw IPv4 socket gets the IP header, TTL included; every other kind needs the control message.
    if (family === 6) socket.setIntOption(constants.IPPROTO_IPV6, constants.IPV6_RECVHOPLIMIT, 1);
    else if (this.kind === 'ping') socket.setIntOption(constants.IPPROTO_IP, constants.IP_RECVTTL, 1);
    if (this.kind === 'raw') {
      if (family === 6) socket.setIcmp6Filter([...ICMPV6_TYPES_HEARD]);
      return null;
    }
    socket.setIntOption(
      family === 4 ? constants.IPPROTO_IP : constants.IPPROTO_IPV6,
      family === 4 ? constants.IP_RECVERR : constants.IPV6_RECVERR,
      1,
    );
    // Port 0: the kernel picks an identifier no other ping socket of this namespace uses.
    socket.bind(0);
    return socket.localPort();
  }

  private hear(
    family: 4 | 6,
    bytes: Buffer,
    address: string,
    ttl: number,
    receivedAtNs: bigint,
    error: NativeQueuedError | undefined,
  ): void {
    let message: IcmpMessage | null;
    let source = address;
    if (error !== undefined) {
      const { SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6 } = this.addon.constants;
      const icmpOrigin = family === 4 ? SO_EE_ORIGIN_ICMP : SO_EE_ORIGIN_ICMP6;
      // Local errors (EMSGSIZE and the like) concern no probe: the probe times out.
      if (error.origin !== icmpOrigin) return;
      message = decodeQueuedIcmpError(bytes, {
        family,
        type: error.type,
        code: error.code,
        originalDestination: address,
      });
      source = error.offender;
    } else if (this.kind === 'raw' && family === 4) {
      message = decodeIcmpPacket(bytes, 4);
    } else {
      message = decodeIcmpMessage(bytes, family, ttl >= 0 ? ttl : null);
    }
    if (message === null) return;
    const packet: ReceivedIcmp = {
      family,
      source: canonicalAddress(source),
      message,
      ...(receivedAtNs > 0n ? { receivedAtNs } : {}),
    };
    for (const listener of this.listeners) listener(packet);
  }
}

function isPermissionRefusal(error: unknown): boolean {
  const name = errnoName(error);
  return name === 'EACCES' || name === 'EPERM';
}

/** The one-line error for a refused kind, with the fix that applies to it. */
function describeRefusal(requested: TransportKind, refused: Array<'ping' | 'raw'>): RelaySelectError {
  const groups = [
    ...new Set([process.getegid?.(), ...(process.getgroups?.() ?? [])].filter((gid) => gid !== undefined)),
  ].join(', ');
  const range = readPingGroupRange();
  const pingRefused = `ping sockets are not allowed for this process's groups (${groups}): net.ipv4.ping_group_range is ${range === null ? 'unreadable' : `"${range}"`}`;
  const rawRefused = 'raw sockets need CAP_NET_RAW, which this process lacks';
  if (requested === 'ping') {
    return new RelaySelectError(
      'RAW_SOCKET_PERMISSION',
      `cannot open an ICMP ping socket (probe.transport is ping): ${pingRefused}`,
      {
        hint: `${PING_SYSCTL_FIX}; or set probe.transport to auto`,
      },
    );
  }
  if (requested === 'raw') {
    return new RelaySelectError(
      'RAW_SOCKET_PERMISSION',
      `cannot open a raw ICMP socket (probe.transport is raw): permission denied; ${rawRefused}`,
      {
        hint: 'run as root or grant CAP_NET_RAW: setcap cap_net_raw+ep "$(command -v node)"; or set probe.transport to auto to use ping sockets where net.ipv4.ping_group_range allows them',
      },
    );
  }
  return new RelaySelectError(
    'RAW_SOCKET_PERMISSION',
    `cannot open an ICMP socket: ${refused.includes('ping') ? pingRefused : 'ping sockets refused'}, and ${rawRefused}`,
    {
      hint: RAW_SOCKET_PERMISSION_HINT,
    },
  );
}

/** net.ipv4.ping_group_range of this namespace ("1 0" = closed), or null when unreadable. */
export function readPingGroupRange(): string | null {
  try {
    return readFileSync(PING_GROUP_RANGE_FILE, 'utf8').trim().replace(/\s+/g, ' ');
  } catch {
    return null;
  }
}
