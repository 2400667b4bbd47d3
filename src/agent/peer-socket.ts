/**
 * The peers' UDP multicast socket (DESIGN §13): a link-local group on one interface, never routed — TTL
 * and hop limit 1 on everything we send, our own datagrams not looped back — and datagrams accepted only
 * from a source on the same link. The protocol (authentication, replay, election) sits above it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { RelaySelectError } from '../errors.js';
import { isOnLink, onLinkSubnets, type PeerLink } from './peer-link.js';

/** Administratively scoped (RFC 2365); with TTL 1 it never leaves the link anyway. */
const PEER_GROUP_IPV4 = '239.255.52.31';
/** Link-local scope (ff02::/16), in the block IANA left for experiments: ff02::114. */
const PEER_GROUP_IPV6 = 'ff02::114';
/** Never forwarded by a router. */
const MULTICAST_HOPS = 1;
/** How long the interface's subnets are trusted before they are read again (addresses change with DHCP). */
const SUBNETS_REFRESH_MS = 5000;

export interface PeerSocket {
  /** The group address and port, as logs show them. */
  readonly endpoint: string;
  /** Sends to the group; a failure (interface gone) is reported through onError, not thrown. */
  send(datagram: Buffer): void;
  close(): void;
}

export interface OpenPeerSocketOptions {
  link: PeerLink;
  port: number;
  /** A datagram from the link. */
  onDatagram: (datagram: Buffer, fromAddress: string) => void;
  /** A datagram from a source off the link (dropped). */
  onOffLink: (fromAddress: string) => void;
  onError: (error: Error) => void;
  /** Monotonic ms, to refresh the link's subnets. */
  nowMs: () => number;
}

export async function openPeerSocket(options: OpenPeerSocketOptions): Promise<PeerSocket> {
  const { link, port } = options;
  const group = link.family === 4 ? PEER_GROUP_IPV4 : PEER_GROUP_IPV6;
  const scopedGroup = link.family === 4 ? group : `${group}%${link.interfaceName}`;
  const socket = createSocket({
    type: link.family === 4 ? 'udp4' : 'udp6',
    reuseAddr: true,
    ipv6Only: link.family === 6,
  });
  let subnets = onLinkSubnets(link);
  let subnetsReadMs = options.nowMs();
  try {
    // Bound to the group address, the socket hears only this group (and, for IPv6, only on this interface).
    await bind(socket, port, scopedGroup);
    const multicastInterface = link.family === 4 ? link.address : `::%${link.interfaceName}`;
    socket.addMembership(group, multicastInterface);
    socket.setMulticastInterface(multicastInterface);
    socket.setMulticastTTL(MULTICAST_HOPS);
    socket.setMulticastLoopback(false);
  } catch (error) {
    socket.close();
    throw new RelaySelectError(
      'CONFIG_INVALID',
      `cannot join the peer group ${scopedGroup} port ${port} on ${link.interfaceName}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'another program may use peer.port, or the interface does not allow multicast; set peer.port to a free port or peer.enabled to false',
      },
    );
  }
  socket.on('error', options.onError);
  socket.on('message', (datagram, remote) => {
    if (options.nowMs() - subnetsReadMs > SUBNETS_REFRESH_MS) {
      subnets = onLinkSubnets(link);
      subnetsReadMs = options.nowMs();
    }
    if (!isOnLink(subnets, remote.address, link.family)) {
      options.onOffLink(remote.address);
      return;
    }
    options.onDatagram(datagram, remote.address);
  });
  return {
    endpoint: link.family === 4 ? `${group}:${port}` : `[${scopedGroup}]:${port}`,
    send(datagram) {
      socket.send(datagram, port, scopedGroup, (error) => {
        if (error) options.onError(error);
      });
    },
    close() {
      socket.close();
    },
  };
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: false }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
