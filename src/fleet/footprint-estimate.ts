/**
 * Closed-form cost of one probe (`estimate`): how many echo requests a strategy sends to a pool whose
 * distances are known, how many of them expire at routers, how many Time Exceeded the routers' rate
 * limit lets out, and when the packets leave. It follows the rules the engine follows (DESIGN §6) on
 * known distances, with no network, no timers and no engine: round by round, the packets each round
 * sends and which of them reach.
 */
import type { ProbeSettings } from '../config/settings.js';
import type { TimeExceededLimit } from '../probe/memory-transport.js';
import { computeFirstEchoTimeoutMs } from '../probe/pacer.js';
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
  probe: Pick<
    ProbeSettings,
    'timeoutMs' | 'retries' | 'ratePps' | 'burst' | 'verifyMargin' | 'verify' | 'tcpFallback' | 'tcpTimeoutMs'
  >;
  timeExceededLimit: TimeExceededLimit | null;
}

/** As the engine (src/probe/strategies.ts). */
const TCP_FALLBACK_CONCURRENCY = 64;

interface Member {
  /** Position in the pool (list order: the engine's tie-break without a preference). */
  listIndex: number;
  hops: number;
  priority: number;
  answers: boolean;
  path: Int32Array | null;
  /** The /24 (/64) of the address, and its numeric order (probe/paths.ts). */
  prefix: string;
  orderKey: string;
  reachTtl: number | null;
  failTtl: number;
  /** The path verification put the member on (`verify: 'paths'`). */
  verifiedPath?: VerifiedPath;
}

/** As VerifiedPath in src/probe/strategies.ts. */
interface VerifiedPath {
  representative: Member;
  failTtl: number;
  reachTtl: number | null;
}

/** The cost of one probe of `profile`'s relays under `settings`. */
export function estimateFootprint(
  profile: DistanceProfile,
  settings: FootprintSettings,
  conditions: FootprintConditions = {},
): FootprintEstimate {
  const largestTtl = computeLargestTtl(settings.maximumTtlToPing);
  const members: Member[] = profile.relays.map((relay, position) => ({
    listIndex: position,
    hops: relay.hops,
    priority: relay.priority,
    answers:
      !conditions.linkDown &&
      !(conditions.down?.has(relay.index >= 0 ? relay.index : position) ?? false) &&
      relay.answersIcmp &&
      relay.hops < largestTtl,
    path: relay.path,
    prefix: relay.prefix,
    orderKey: relay.orderKey,
    reachTtl: null,
    failTtl: 0,
  }));
  const cost = new CostCounter(settings, conditions.linkDown === true);
  if (settings.strategy === 'inference') estimateInference(members, settings, largestTtl, cost);
  else estimateLadder(members, settings, cost);
  // Relays that never answered (and were not left behind by a ladder that stopped early) get a TCP
  // connect, 64 at a time; the ones that are down take the whole timeout.
  const silent = members.filter(
    (member) => member.reachTtl === null && (settings.strategy === 'inference' || member.failTtl >= largestTtl),
  );
  if (settings.probe.tcpFallback && silent.length > 0)
    cost.wait(Math.ceil(silent.length / TCP_FALLBACK_CONCURRENCY) * (settings.probe.tcpTimeoutMs / 1000));
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
   * the round trip of the slowest answer, or the timeout when some probe stays unanswered. `heard`
   * learns, per echo, the router whose Time Exceeded came back (null: silence, or the relay answered).
   */
  round(
    sends: Member[],
    ttl: number,
    timeoutSeconds: (member: Member) => number,
    heard?: (member: Member, router: number | null) => void,
  ): void {
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
          heard?.(member, router);
        } else {
          waitSeconds = Math.max(waitSeconds, offset + timeoutSeconds(member));
          heard?.(member, null);
        }
        continue;
      }
      heard?.(member, null);
      waitSeconds = Math.max(
        waitSeconds,
        offset + (member.answers ? simulatedRttMs(member.hops) / 1000 : timeoutSeconds(member)),
      );
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

/** The smallest `valueOf` among `members` (Infinity for none), without spreading them into Math.min. */
function lowest<T>(members: readonly T[], valueOf: (member: T) => number): number {
  return members.reduce((smallest, member) => Math.min(smallest, valueOf(member)), Number.POSITIVE_INFINITY);
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
  return (member) =>
    member.reachTtl === null ? full : Math.min(full, Math.max(0.05, (3 * simulatedRttMs(member.hops) + 20) / 1000));
}

/**
 * Timeout of an echo at the largest TTL to a member not heard from yet, once `answering` (the members
 * that will answer in this pass) are heard: computeFirstEchoTimeoutMs of the slowest of them.
 */
function firstEchoTimeoutFor(settings: FootprintSettings, answering: readonly Member[]): (member: Member) => number {
  const adaptive = timeoutFor(settings);
  const slowestMs =
    answering.length === 0 ? null : answering.reduce((most, member) => Math.max(most, simulatedRttMs(member.hops)), 0);
  const unknownSeconds = computeFirstEchoTimeoutMs(settings.probe.timeoutMs, slowestMs) / 1000;
  return (member) => (member.reachTtl === null ? unknownSeconds : adaptive(member));
}

function record(member: Member, ttl: number, silenceMeansNotReached: boolean): void {
  if (member.answers && ttl > member.hops)
    member.reachTtl = member.reachTtl === null ? ttl : Math.min(member.reachTtl, ttl);
  else if (silenceMeansNotReached || ttl <= member.hops) member.failTtl = Math.max(member.failTtl, ttl);
}

/** The engine's `inference` (strategies.ts runInference) on known distances. */
function estimateInference(
  members: Member[],
  settings: FootprintSettings,
  largestTtl: number,
  cost: CostCounter,
): void {
  const verify = settings.probe.verify ?? 'paths';
  const firstPass = (sends: Member[]): void => {
    cost.round(
      sends,
      largestTtl,
      firstEchoTimeoutFor(
        settings,
        sends.filter((member) => member.answers),
      ),
    );
    for (const member of sends) record(member, largestTtl, false);
  };
  firstPass(members);
  if (verify === 'paths') {
    // retryUnknownPaths: a silent member whose /24 (/64) answered through the same or a better priority
    // is not retried; elsewhere one scout per prefix is, and the rest only once it answers. Here what
    // was silent stays silent, so only the scouts are retried.
    const answeredPriority = new Map<string, number>();
    for (const member of members)
      if (member.reachTtl !== null)
        answeredPriority.set(
          member.prefix,
          Math.min(answeredPriority.get(member.prefix) ?? Number.POSITIVE_INFINITY, member.priority),
        );
    const scouts = new Map<string, Member>();
    for (const member of members) {
      if (
        member.reachTtl !== null ||
        (answeredPriority.get(member.prefix) ?? Number.POSITIVE_INFINITY) <= member.priority ||
        scouts.has(member.prefix)
      )
        continue;
      scouts.set(member.prefix, member);
    }
    for (let attempt = 0; attempt < settings.probe.retries && scouts.size > 0; attempt += 1)
      firstPass([...scouts.values()]);
  } else {
    let silent = members.filter((member) => member.reachTtl === null);
    for (let attempt = 0; attempt < settings.probe.retries && silent.length > 0; attempt += 1) {
      firstPass(silent);
      silent = silent.filter((member) => member.reachTtl === null);
    }
  }
  const answered = members.filter((member) => member.reachTtl !== null);
  if (answered.length === 0) return;
  const bestClass = bestPriorityClass(answered);
  const guess = lowest(bestClass, (member) => member.hops);
  const candidates = bestClass.filter((member) => member.hops <= guess + settings.probe.verifyMargin);
  if (verify === 'all') findNearest(candidates, 0, largestTtl, guess, settings, cost);
  else verifyPaths(candidates, guess, largestTtl, settings, cost);
}

/**
 * The engine's verification by distinct paths (strategies.ts verifyPaths): groups by inferred distance
 * and prefix in address order, split where the ends' Time Exceeded routers disagree (bisection, one
 * round per level), one representative per path in the search, then the winner's own check.
 */
function verifyPaths(
  candidates: Member[],
  guess: number,
  largestTtl: number,
  settings: FootprintSettings,
  cost: CostCounter,
): void {
  const timeout = timeoutFor(settings);
  const groups = new Map<string, Member[]>();
  for (const member of candidates) {
    const key = `${member.hops}|${member.prefix}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [member]);
    else group.push(member);
  }
  const representatives: Member[] = [];
  const addPath = (run: Member[], first: Member | null, last: Member | null): void => {
    const representative = run.reduce((best, member) => (member.listIndex < best.listIndex ? member : best));
    const shown = first !== null && last !== null;
    const path: VerifiedPath = {
      representative,
      failTtl: shown ? Math.min(first.failTtl, last.failTtl) : 0,
      reachTtl:
        shown && first.reachTtl !== null && last.reachTtl !== null ? Math.max(first.reachTtl, last.reachTtl) : null,
    };
    for (const member of run) member.verifiedPath = path;
    representatives.push(representative);
  };
  /** What the echo at the group's TTL showed per member: a router, 'reached', or null for silence. */
  const signatures = new Map<Member, number | 'reached' | null>();
  type Split = { members: Member[]; low: number; high: number };
  let level: Split[] = [];
  for (const members of groups.values()) {
    members.sort((left, right) => (left.orderKey < right.orderKey ? -1 : left.orderKey > right.orderKey ? 1 : 0));
    const ttl = members[0]!.hops;
    if (ttl < 1 || ttl >= largestTtl) addPath(members, null, null);
    else level.push({ members, low: 0, high: members.length - 1 });
  }
  while (level.length > 0) {
    // The ends not probed yet leave together, at each group's TTL; then each split is decided.
    const sends = [
      ...new Set(level.flatMap((split) => [split.members[split.low]!, split.members[split.high]!])),
    ].filter((member) => !signatures.has(member));
    const byTtl = new Map<number, Member[]>();
    for (const member of sends) {
      const batch = byTtl.get(member.hops);
      if (batch === undefined) byTtl.set(member.hops, [member]);
      else batch.push(member);
    }
    for (const [ttl, batch] of byTtl) {
      cost.round(batch, ttl, timeout, (member, router) =>
        signatures.set(member, ttl > member.hops ? 'reached' : router),
      );
      for (const member of batch) record(member, ttl, true);
    }
    const next: Split[] = [];
    for (const split of level) {
      const first = split.members[split.low]!;
      const last = split.members[split.high]!;
      const [a, b] = [signatures.get(first) ?? null, signatures.get(last) ?? null];
      const agree = a === null || b === null || a === b;
      if (split.low === split.high || agree) addPath(split.members.slice(split.low, split.high + 1), first, last);
      else if (split.high === split.low + 1) {
        addPath([first], first, first);
        addPath([last], last, last);
      } else {
        const middle = Math.floor((split.low + split.high) / 2);
        next.push(
          { members: split.members, low: split.low, high: middle },
          { members: split.members, low: middle + 1, high: split.high },
        );
      }
    }
    level = next;
  }
  findNearest(representatives, 0, largestTtl, guess, settings, cost);
  // The winner (first in list order among the tied) is checked itself unless its own echo just above
  // the distance was answered; on these symmetric paths that check always agrees.
  const best = lowest(candidates, upperBound);
  const tied = candidates.filter((member) => upperBound(member) === best && lowerBound(member) === best);
  if (tied.length === 0) return;
  const winner = tied.reduce((first, member) => (member.listIndex < first.listIndex ? member : first));
  if (winner.reachTtl !== null && winner.reachTtl <= best + 1) return;
  cost.round([winner], best + 1, timeout);
  record(winner, best + 1, true);
}

/** f ≥ this, with what the member's path showed (strategies.ts lowerBound). */
function lowerBound(member: Member): number {
  const path = member.verifiedPath;
  if (path === undefined) return member.failTtl;
  return Math.max(member.failTtl, path.failTtl, path.representative === member ? 0 : path.representative.failTtl);
}

/** f ≤ this; +∞ before any answer (strategies.ts upperBound). */
function upperBound(member: Member): number {
  const path = member.verifiedPath;
  let reach = member.reachTtl ?? Number.POSITIVE_INFINITY;
  if (path !== undefined) {
    if (path.reachTtl !== null) reach = Math.min(reach, path.reachTtl);
    if (path.representative !== member && path.representative.reachTtl !== null)
      reach = Math.min(reach, path.representative.reachTtl);
  }
  return reach - 1;
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
    for (const member of climbing)
      if (member.reachTtl !== null) bestAnsweredPriority = Math.min(bestAnsweredPriority, member.priority);
    pending = pending.filter((member) => member.reachTtl === null);
  }
  const answered = members.filter((member) => member.reachTtl !== null);
  if (answered.length === 0) return;
  const bestClass = bestPriorityClass(answered);
  const highTtl = lowest(bestClass, (member) => member.reachTtl!);
  const firstAnswering = bestClass.filter((member) => member.reachTtl === highTtl);
  findNearest(
    firstAnswering,
    lowest(firstAnswering, (member) => member.failTtl),
    highTtl,
    null,
    settings,
    cost,
  );
}

/** The engine's search for the members' smallest distance (DESIGN §6), on known distances. */
function findNearest(
  members: Member[],
  lowTtl: number,
  highTtl: number,
  guess: number | null,
  settings: FootprintSettings,
  cost: CostCounter,
): void {
  const timeout = timeoutFor(settings);
  let low = lowTtl;
  let high = highTtl;
  for (let steps = 0; high - low > 1 && steps < 64; steps += 1) {
    const ttl = chooseTtl(low, high, guess, settings.probe.verifyMargin);
    const unknown = members.filter((member) => lowerBound(member) < ttl && upperBound(member) + 1 > ttl);
    cost.round(unknown, ttl, timeout);
    for (const member of unknown) record(member, ttl, true);
    if (members.some((member) => upperBound(member) + 1 <= ttl)) high = ttl;
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
  const best = lowest(members, (member) => member.priority);
  return members.filter((member) => member.priority === best);
}
