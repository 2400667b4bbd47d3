/**
 * The ICMP addon (src/native/icmp-socket.cc, built into build/Release at install) as TypeScript sees it:
 * its types, loading it with a clear error when it is missing, and its system-call errors as
 * RelaySelectError. Loaded on first use, so commands that never probe work without it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RelaySelectError } from '../errors.js';
import { NATIVE_ADDON_HINT } from './remedies.js';

export { NATIVE_ADDON_HINT, PING_SYSCTL_FIX, RAW_SOCKET_PERMISSION_HINT } from './remedies.js';

/** The same path from src/probe (tests), dist/probe (the package) and a test's compiled copy. */
const ADDON_URL = new URL('../../build/Release/relay_select_icmp.node', import.meta.url);

/** What the addon passes for a message from the error queue of a ping socket (struct sock_extended_err). */
export interface NativeQueuedError {
  errno: number;
  /** SO_EE_ORIGIN_ICMP (2) or SO_EE_ORIGIN_ICMP6 (3) for an ICMP error; others are local. */
  origin: number;
  /** ICMP type and code of the error message. */
  type: number;
  code: number;
  info: number;
  /** The router (or host) that sent the ICMP error. */
  offender: string;
}

/**
 * One received message: the bytes (for a raw IPv4 socket with its IP header; otherwise the ICMP message, or
 * for the error queue the quoted original ICMP header), the peer address (for the error queue: the original
 * destination), the TTL / hop limit (-1 when absent), the kernel's receive time (CLOCK_REALTIME ns; 0 when
 * absent), and for the error queue the error.
 */
type NativeMessageListener = (
  bytes: Buffer,
  address: string,
  ttl: number,
  receivedAtNs: bigint,
  error: NativeQueuedError | undefined,
) => void;

export interface NativeIcmpSocket {
  bind(port: number): void;
  localPort(): number;
  setIntOption(level: number, name: number, value: number): void;
  setIcmp6Filter(passTypes: number[]): void;
  /** Sends with this TTL / hop limit; returns CLOCK_REALTIME (ns) read just before the packet went to the kernel. */
  send(packet: Buffer, address: string, ttl: number): bigint;
  start(): void;
  /** Delivers what is queued now, synchronously, to the listener. */
  flush(): void;
  close(): void;
}

export interface IcmpAddon {
  IcmpSocket: new (family: 4 | 6, kind: 'ping' | 'raw', onMessage: NativeMessageListener) => NativeIcmpSocket;
  constants: Record<
    | 'SOL_SOCKET'
    | 'SO_TIMESTAMPNS'
    | 'SO_RCVBUF'
    | 'IPPROTO_IP'
    | 'IP_RECVTTL'
    | 'IP_RECVERR'
    | 'IPPROTO_IPV6'
    | 'IPV6_RECVHOPLIMIT'
    | 'IPV6_RECVERR'
    | 'SO_EE_ORIGIN_ICMP'
    | 'SO_EE_ORIGIN_ICMP6',
    number
  >;
}

let loaded: IcmpAddon | undefined;

/** The addon, loaded once; NATIVE_ADDON_MISSING with the fix when it was not built or does not load. */
export function loadIcmpAddon(): IcmpAddon {
  if (loaded !== undefined) return loaded;
  const path = fileURLToPath(ADDON_URL);
  try {
    loaded = createRequire(import.meta.url)(path) as IcmpAddon;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    throw new RelaySelectError(
      'NATIVE_ADDON_MISSING',
      missing
        ? `the ICMP addon is not built (no ${path})`
        : `the ICMP addon ${path} does not load: ${(error as Error).message.split('\n')[0]}`,
      { cause: error, hint: NATIVE_ADDON_HINT, file: path },
    );
  }
  return loaded;
}

/** The errno name of an addon error (EACCES, EPERM, …), or undefined for anything else. */
export function errnoName(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** An addon system-call error as a RelaySelectError that names the call and the errno. */
export function toSocketError(error: unknown, what: string): RelaySelectError {
  const name = errnoName(error) ?? 'unknown error';
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  return new RelaySelectError(
    'ICMP_SOCKET_FAILED',
    `${what}: ${typeof syscall === 'string' ? `${syscall} failed with ` : ''}${name}`,
    { cause: error },
  );
}
