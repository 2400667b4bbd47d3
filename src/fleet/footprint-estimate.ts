/**
 * Closed-form cost of one probe (`estimate`): how many echo requests a strategy sends to a pool whose
 * distances are known, how many of them expire at routers, how many Time Exceeded the routers' rate
 * limit lets out, and when the packets leave. It follows the rules the engine follows (DESIGN §6) on
 * known distances, with no network, no timers and no engine: round by round, the packets each round
 * sends and which of them reach.
 */
import type { ProbeSettings } from '../config/settings.js';
import type { TimeExceededLimit } from '../probe/memory-transport.js';
import { computeLadderTtls, computeLargestTtl } from '../probe/ttl-ladder.js';
import { simulatedRttMs } from './probe-footprint.js';
import type { DistanceProfile } from './profile.js';

interface FootprintEstimate {
  echoRequests: number;
  ttlExpired: number;
  timeExceeded: number;
  durationSeconds: number;
  /** Echo requests by whole second after the start. */
  echoBySecond: number[];
  timeExceededBySecond: number[];
}

export interface FootprintConditions {
  /** Relays (profile indices) that answer nothing: down. */
  down?: ReadonlySet<number>;
  /** The subnet's link is down: nothing leaves the building. */
  linkDown?: boolean;
}

interface FootprintSettings {
  strategy: ProbeSettings['strategy'];
  maximumTtlToPing: number;
  probe: Pick<ProbeSettings, 'timeoutMs' | 'retries' | 'ratePps' | 'burst' | 'verifyMargin' | 'tcpFallback' | 'tcpTimeoutMs'>;
  timeExceededLimit: TimeExceededLimit | null;
}

/** As the engine (src/probe/strategies.ts). */
const TCP_FALLBACK_CONCURRENCY = 64;

interface Member {
  hops: number;
  priority: number;
  answers: boolean;
  path: Int32Array | null;
  reachTtl: number | null;
  failTtl: number;
}

/** The cost of one probe of `profile`'s relays under `settings`. */
export function estimateFootprint(profile: DistanceProfile, settings: FootprintSettings, conditions: FootprintConditions = {}): FootprintEstimate {
  const largestTtl = computeLargestTtl(settings.maximumTtlToPing);
  const members: Member[] = profile.relays.map((relay, position) => ({
    hops: relay.hops,
    priority: relay.priority,
    answers: !conditions.linkDown && !(conditions.down?.has(relay.index >= 0 ? relay.index : position) ?? false) && relay.answersIcmp && relay.hops < largestTtl,
    path: relay.path,
    reachTtl: null,
    failTtl: 0,
  }));
  const cost = new CostCounter(settings, conditions.linkDown === true);
  if (settings.strategy === 'inference') estimateInference(members, settings, largestTtl, cost);
  else estimateLadder(members, settings, cost);
  // Relays that never answered (and were not left behind by a ladder that stopped early) get a TCP
  // connect, 64 at a time; the ones that are down take the whole timeout.
  const silent = members.filter((member) => member.reachTtl === null && (settings.strategy === 'inference' || member.failTtl >= largestTtl));
  if (settings.probe.tcpFallback && silent.length > 0) cost.wait(Math.ceil(silent.length / TCP_FALLBACK_CONCURRENCY) * (settings.probe.tcpTimeoutMs / 1000));
  return cost.result();
}

/** Counts packets round by round and keeps the clock of the probe. */
class CostCounter {
  private nowSeconds = 0;
  private tokens: number;
  private readonly routerTokens = new Map<number, { tokens: number; atSeconds: number }>();
  private readonly echoBySecond: number[] = [];
  private readonly timeExceededBySecond: number[] = [];
  echoRequests = 0;
  ttlExpired = 0;
  timeExceeded = 0;

  constructor(
    private readonly settings: FootprintSettings,
    private readonly linkDown: boolean,
  ) {
    this.tokens = settings.probe.burst;
  }

  /**
   * One round: `sends` echoes with `ttl`, paced by the token bucket. Returns after the round's wait:
   * the round trip of the slowest answer, or the timeout when some probe stays unanswered.
   */
  round(sends: Member[], ttl: number, timeoutSeconds: (member: Member) => number): void {
    const rate = this.settings.probe.ratePps;
    let waitSeconds = 0;
    let offset = 0;
    for (const member of sends) {
      if (this.tokens >= 1) this.tokens -= 1;
      else offset += 1 / rate;
      const at = this.nowSeconds + offset;
      this.echoRequests += 1;
      add(this.echoBySecond, at, 1);
      if (this.linkDown) {
        waitSeconds = Math.max(waitSeconds, offset + timeoutSeconds(member));
        continue;
      }
      if (ttl <= member.hops) {
        this.ttlExpired += 1;
        const router = member.path?.[ttl - 1] ?? -ttl;
        if (this.takeRouterToken(router, at)) {
          this.timeExceeded += 1;
          add(this.timeExceededBySecond, at, 1);
          waitSeconds = Math.max(waitSeconds, offset + simulatedRttMs(ttl) / 1000);
        } else waitSeconds = Math.max(waitSeconds, offset + timeoutSeconds(member));
        continue;
      }
      waitSeconds = Math.max(waitSeconds, offset + (member.answers ? simulatedRttMs(member.hops) / 1000 : timeoutSeconds(member)));
    }
    this.nowSeconds += waitSeconds;
    this.tokens = Math.min(this.settings.probe.burst, this.tokens + waitSeconds * rate);
  }

  wait(seconds: number): void {
    this.nowSeconds += seconds;
  }

  private takeRouterToken(router: number, atSeconds: number): boolean {
    const limit = this.settings.timeExceededLimit;
    if (limit === null) return false;
    const bucket = this.routerTokens.get(router) ?? { tokens: limit.burst, atSeconds };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (atSeconds - bucket.atSeconds) * limit.perSecond);
    bucket.atSeconds = atSeconds;
    this.routerTokens.set(router, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  result(): FootprintEstimate {
    return {
      echoRequests: this.echoRequests,
      ttlExpired: this.ttlExpired,
      timeExceeded: this.timeExceeded,
      durationSeconds: this.nowSeconds,
      echoBySecond: dense(this.echoBySecond),
      timeExceededBySecond: dense(this.timeExceededBySecond),
    };
  }
}

function add(series: number[], atSeconds: number, count: number): void {
  const second = Math.floor(atSeconds);
  series[second] = (series[second] ?? 0) + count;
}

function dense(series: number[]): number[] {
  return Array.from({ length: series.length }, (_, second) => series[second] ?? 0);
}

/** Timeout of a probe to a member: the full one until its round trip is known, then the adaptive one. */
function timeoutFor(settings: FootprintSettings): (member: Member) => number {
  const full = settings.probe.timeoutMs / 1000;
  return (member) => (member.reachTtl === null ? full : Math.min(full, Math.max(0.05, (3 * simulatedRttMs(member.hops) + 20) / 1000)));
}

function record(member: Member, ttl: number, silenceMeansNotReached: boolean): void {
  if (member.answers && ttl > member.hops) member.reachTtl = member.reachTtl === null ? ttl : Math.min(member.reachTtl, ttl);
  else if (silenceMeansNotReached || ttl <= member.hops) member.failTtl = Math.max(member.failTtl, ttl);
}

function estimateInference(members: Member[], settings: FootprintSettings, largestTtl: number, cost: CostCounter): void {
  const timeout = timeoutFor(settings);
  let silent = members;
  for (let attempt = 0; attempt <= settings.probe.retries && silent.length > 0; attempt += 1) {
    cost.round(silent, largestTtl, timeout);
    for (const member of silent) record(member, largestTtl, false);
    silent = silent.filter((member) => member.reachTtl === null);
  }
  const answered = members.filter((member) => member.reachTtl !== null);
  if (answered.length === 0) return;
  const bestClass = bestPriorityClass(answered);
  const guess = Math.min(...bestClass.map((member) => member.hops));
  const candidates = bestClass.filter((member) => member.hops <= guess + settings.probe.verifyMargin);
  findNearest(candidates, 0, largestTtl, guess, settings, cost);
}

function estimateLadder(members: Member[], settings: FootprintSettings, cost: CostCounter): void {
  const timeout = timeoutFor(settings);
  let pending = members;
  let bestAnsweredPriority = Number.POSITIVE_INFINITY;
  for (const ttl of computeLadderTtls(settings.maximumTtlToPing)) {
    const climbing = pending.filter((member) => member.priority < bestAnsweredPriority);
    if (climbing.length === 0) break;
    cost.round(climbing, ttl, timeout);
    for (const member of climbing) record(member, ttl, true);
    for (const member of climbing) if (member.reachTtl !== null) bestAnsweredPriority = Math.min(bestAnsweredPriority, member.priority);
    pending = pending.filter((member) => member.reachTtl === null);
  }
  const answered = members.filter((member) => member.reachTtl !== null);
  if (answered.length === 0) return;
  const bestClass = bestPriorityClass(answered);
  const highTtl = Math.min(...bestClass.map((member) => member.reachTtl!));
  const firstAnswering = bestClass.filter((member) => member.reachTtl === highTtl);
  findNearest(firstAnswering, Math.min(...firstAnswering.map((member) => member.failTtl)), highTtl, null, settings, cost);
}

/** The engine's search for the members' smallest distance (DESIGN §6), on known distances. */
function findNearest(members: Member[], lowTtl: number, highTtl: number, guess: number | null, settings: FootprintSettings, cost: CostCounter): void {
  const timeout = timeoutFor(settings);
  let low = lowTtl;
  let high = highTtl;
  for (let steps = 0; high - low > 1 && steps < 64; steps += 1) {
    const ttl = chooseTtl(low, high, guess, settings.probe.verifyMargin);
    const unknown = members.filter((member) => member.failTtl < ttl && (member.reachTtl ?? Number.POSITIVE_INFINITY) > ttl);
    cost.round(unknown, ttl, timeout);
    for (const member of unknown) record(member, ttl, true);
    if (members.some((member) => member.reachTtl !== null && member.reachTtl <= ttl)) high = ttl;
    else low = ttl;
  }
}

function chooseTtl(low: number, high: number, guess: number | null, verifyMargin: number): number {
  if (guess !== null) {
    if (low < guess + 1 && guess + 1 < high) return guess + 1;
    if (high === guess + 1 && low < guess && guess >= 1) return guess;
    if (low >= guess + 1 && low + 1 < high && low + 1 <= guess + verifyMargin + 1) return low + 1;
  }
  return Math.floor((low + high) / 2);
}

function bestPriorityClass(members: Member[]): Member[] {
  const best = Math.min(...members.map((member) => member.priority));
  return members.filter((member) => member.priority === best);
}
