/** The probe options the namespace probe tests (test/lab/*) start from: short timeouts, fast pacing, no TCP fallback. */
import type { ProbeOptions } from '../../src/probe/types.js';

export const LAB_PROBE_OPTIONS: Readonly<Omit<ProbeOptions, 'strategy'>> = {
  maximumTtlToPing: 255,
  timeoutMs: 500,
  retries: 1,
  ratePps: 1000,
  burst: 50,
  verifyMargin: 2,
  tcpFallback: false,
  tcpTimeoutMs: 500,
};
