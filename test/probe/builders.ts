import type { ProbeOptions, ProbeTarget } from '../../src/probe/types.js';

/** Probe options for the in-memory transport: `inference`, a rate that never paces, one retry. */
export function options(overrides: Partial<ProbeOptions> = {}): ProbeOptions {
  return {
    strategy: 'inference',
    maximumTtlToPing: 255,
    timeoutMs: 300,
    retries: 1,
    ratePps: 100_000,
    burst: 1000,
    verifyMargin: 2,
    tcpFallback: false,
    tcpTimeoutMs: 100,
    ...overrides,
  };
}

/** A target keyed and named by its address, on the relay port. */
export function target(address: string, overrides: Partial<ProbeTarget> = {}): ProbeTarget {
  return { key: address, host: address, address, family: address.includes(':') ? 6 : 4, port: 52311, ...overrides };
}

/** One target per simulated host, in the hosts' order. */
export function targetsOf(hosts: ReadonlyArray<{ address: string }>): ProbeTarget[] {
  return hosts.map((host) => target(host.address));
}
