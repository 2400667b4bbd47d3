/**
 * The agent notices a changed network (DESIGN §7 `network-changed`: a laptop moving between networks,
 * a new default gateway) within a few seconds by polling a fingerprint of it. The fingerprint is
 * injected: the default here reads the default routes from /proc; `run`'s own network fingerprint
 * (default route, source address toward the relay) takes its place once both exist.
 */
import { readFile } from 'node:fs/promises';

/** Polls often enough to notice a change within 10 s, cheaply (two small /proc reads). */
export const NETWORK_POLL_DEFAULT_MS = 3000;

interface WatchNetworkOptions {
  readFingerprint: () => Promise<string>;
  /** @default NETWORK_POLL_DEFAULT_MS */
  intervalMs?: number;
  /** Called with the new fingerprint when it differs from the previous one. */
  onChange: (fingerprint: string, previous: string) => void;
  /** A read that fails is skipped (the next poll tries again). */
  onError?: (error: unknown) => void;
}

/** Starts polling; returns the function that stops it. The first reading is the baseline, not a change. */
export function watchNetwork(options: WatchNetworkOptions): () => void {
  const intervalMs = options.intervalMs ?? NETWORK_POLL_DEFAULT_MS;
  let previous: string | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async (): Promise<void> => {
    try {
      const fingerprint = await options.readFingerprint();
      if (stopped) return;
      if (previous !== undefined && fingerprint !== previous) options.onChange(fingerprint, previous);
      previous = fingerprint;
    } catch (error) {
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => void poll(), intervalMs);
  };
  void poll();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/** The default routes of both families as the kernel lists them: interface and gateway of each. */
export async function readDefaultRouteFingerprint(): Promise<string> {
  const [ipv4, ipv6] = await Promise.all([readFile('/proc/net/route', 'utf8').catch(() => ''), readFile('/proc/net/ipv6_route', 'utf8').catch(() => '')]);
  return [...defaultRoutesIpv4(ipv4), ...defaultRoutesIpv6(ipv6)].sort().join('\n');
}

/** /proc/net/route: `Iface Destination Gateway Flags RefCnt Use Metric Mask …`, hexadecimal, default = destination and mask 0. */
export function defaultRoutesIpv4(text: string): string[] {
  const routes: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, gateway, , , , metric, mask] = line.trim().split(/\s+/);
    if (iface === undefined || destination !== '00000000' || mask !== '00000000') continue;
    routes.push(`4 ${iface} via ${gateway} metric ${metric}`);
  }
  return routes;
}

/** /proc/net/ipv6_route: `dest destlen src srclen nexthop metric refcnt use flags iface`; default = ::/0 (loopback rejects left out). */
export function defaultRoutesIpv6(text: string): string[] {
  const routes: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [destination, length, , , nextHop, metric, , , , iface] = fields;
    if (destination !== '0'.repeat(32) || length !== '00' || iface === 'lo') continue;
    routes.push(`6 ${iface} via ${nextHop} metric ${metric}`);
  }
  return routes;
}
