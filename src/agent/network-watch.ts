/**
 * The agent notices a changed network (DESIGN §7 `network-changed`: a laptop docked, undocked or on a VPN)
 * within a few seconds by polling the same network fingerprint `run` keeps in the state
 * (cycle/read-network-fingerprint.ts) and comparing readings with `describeNetworkChange`. A change only
 * wakes the agent: the cycle it runs reads the fingerprint again and the decision's `network-changed` rule,
 * comparing with the state, decides whether to select.
 */
import { describeNetworkChange } from '../cycle/network-fingerprint.js';
import type { NetworkFingerprint } from '../cycle/state.js';

/** Polls often enough to notice a change within 10 s, cheaply (two small /proc reads and one unconnected-to-anything UDP socket). */
export const NETWORK_POLL_DEFAULT_MS = 3000;

interface WatchNetworkOptions {
  /** The fingerprint now; null where there is none to read (not Linux), which is never a change. */
  readFingerprint: () => Promise<NetworkFingerprint | null>;
  /** @default NETWORK_POLL_DEFAULT_MS */
  intervalMs?: number;
  /** Called with how the network changed (describeNetworkChange) when a reading differs from the previous one. */
  onChange: (change: string) => void;
  /** A read that fails is skipped (the next poll tries again). */
  onError?: (error: unknown) => void;
}

/** Starts polling; returns the function that stops it. The first reading is the baseline, not a change. */
export function watchNetwork(options: WatchNetworkOptions): () => void {
  const intervalMs = options.intervalMs ?? NETWORK_POLL_DEFAULT_MS;
  let previous: NetworkFingerprint | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async (): Promise<void> => {
    try {
      const fingerprint = await options.readFingerprint();
      if (stopped) return;
      const change = previous === null || fingerprint === null ? null : describeNetworkChange(previous, fingerprint);
      if (change !== null) options.onChange(change);
      if (fingerprint !== null) previous = fingerprint;
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
