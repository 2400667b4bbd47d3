import type { ProbeStrategy } from '../config/settings.js';
import { computeLadderTtls } from './ttl-ladder.js';

export interface ProbeBudget {
  /** The strategy the settings select. */
  strategy: ProbeStrategy;
  inference: {
    /** Echo requests when the best relay stands alone and no retry is needed: N + 2. */
    packets: number;
    note: string;
  };
  rounds: {
    /** One echo per relay per rung, every rung (nobody answers until the last). */
    worstCasePackets: number;
    ttls: number[];
  };
}

/** The packet budget of probing `relayCount` relays under each strategy (pure: no network). */
export function estimateProbeBudget(
  relayCount: number,
  strategy: ProbeStrategy,
  maximumTtlToPing: number,
  verifyMargin: number,
): ProbeBudget {
  const ttls = computeLadderTtls(maximumTtlToPing);
  const count = Math.max(0, Math.floor(relayCount));
  return {
    strategy,
    inference: {
      packets: count === 0 ? 0 : count + 2,
      note:
        `${count} echoes at TTL ${ttls[ttls.length - 1]} (one per relay, +1 per retry of a silent relay whose /24 or /64 stayed silent), ` +
        `then about 2 TTL-limited echoes per distinct path (/24 or /64 and reply-TTL distance) of the best priority inferred within ` +
        `${verifyMargin} hop(s) of the best (probe.verify: paths; per relay with probe.verify: all), IPv4 and IPv6 alike`,
    },
    rounds: { worstCasePackets: count * ttls.length, ttls },
  };
}
