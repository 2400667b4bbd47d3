import { isRelaySelectError } from '../errors.js';
import { computeLargestTtl } from '../probe/ttl-ladder.js';
import { unreachableResult, type ProbeResult, type ProbeTarget } from '../probe/types.js';
import { parseHostPort } from '../relays/host-port.js';
import { buildPools } from '../relays/pools.js';
import {
  DEFAULT_RELAY_WEIGHT,
  FAILOVER_POOL,
  isAutoSelectable,
  MANUAL_POOL,
  relayKey,
  ROOT_POOL,
  type Pool,
  type Relay,
} from '../relays/relay.js';
import { createTiePreference, describeDistance, rankPool } from './rank.js';
import { applySwitchMargin } from './switch-margin.js';
import type {
  Attempt,
  Candidate,
  CandidateMethod,
  HostResolution,
  PoolSummary,
  RegisterOutcome,
  SelectionEvent,
  SelectionOutcome,
  SelectRelayDeps,
  SelectRelayInput,
} from './types.js';

type Selected = Extract<SelectionOutcome, { status: 'selected' }>;

/**
 * One selection (DESIGN §5). Automatic mode: probe the seek-list pools in order, rank the reachable
 * relays of the first pool that has any, register with the best; a failed registration moves to
 * the next-ranked relay of the same pool, then to the next pool; pools after a success are not
 * probed. Manual mode: the manual relays in order, each checked with one echo at the maximum TTL.
 * Then the failover relays in order (no ICMP), then the root server. A registration answered with
 * `upstream-down` (HTTP 503) selects that relay: it is alive, and trying others would only spread
 * the outage (DESIGN §7).
 *
 * Relays marked `autoselect=false` are left out of the pools (a manual, failover or root relay the settings
 * name may still be one of them). A registration answered `full` (HTTP 429) moves on to the next-ranked relay
 * like a failure, but the caller records it apart: no failure clock, and the relay is avoided for a while
 * (`input.avoid` on the next selections). With `input.stickTo`, the current relay is weighed against the
 * best of the pool that answered (applySwitchMargin).
 *
 * Each relay is asked to register at most once per selection, even when it sits in several pools.
 * Errors thrown by `deps.probe` or `deps.resolve` (raw-socket permission, abort) propagate; errors
 * thrown by `deps.register` count as a failed registration, but ABORTED (a signal) propagates.
 */
export async function selectRelay(input: SelectRelayInput, deps: SelectRelayDeps): Promise<SelectionOutcome> {
  const selection = new Selection(input, deps);
  return selection.run();
}

class Selection {
  private readonly attempts: Attempt[] = [];
  private readonly probes: ProbeResult[] = [];
  private readonly pools: PoolSummary[] = [];
  private readonly resolutions = new Map<string, HostResolution>();
  /** Relays whose registration failed (or that answered full) in this selection, by relayKey. */
  private readonly failedKeys = new Map<string, string>();
  /** What the switch margin decided, when the current relay was weighed. */
  private switchMargin: { kept: boolean; reason: string } | undefined;

  constructor(
    private readonly input: SelectRelayInput,
    private readonly deps: SelectRelayDeps,
  ) {}

  async run(): Promise<SelectionOutcome> {
    const { settings } = this.input;
    const chosen = settings.automatic ? await this.tryPools() : await this.tryManualRelays();
    if (chosen !== undefined) return chosen;

    if (settings.failoverRelays.length > 0) this.emit({ type: 'stage', stage: 'failover' });
    for (const [index, spec] of settings.failoverRelays.entries()) {
      const reason = `failover relay ${index + 1} of ${settings.failoverRelays.length}`;
      const selected = await this.tryDirect(spec, FAILOVER_POOL, 'failover', reason);
      if (selected !== undefined) return selected;
    }
    if (settings.rootServer !== undefined) {
      this.emit({ type: 'stage', stage: 'root' });
      const selected = await this.tryDirect(settings.rootServer, ROOT_POOL, 'root', 'root server, the last resort');
      if (selected !== undefined) return selected;
    }
    return { status: 'failed', attempts: this.attempts, probes: this.probes, pools: this.pools };
  }

  private async tryPools(): Promise<Selected | undefined> {
    this.emit({ type: 'stage', stage: 'pools' });
    let selected: Selected | undefined;
    for (const pool of buildPools(this.input.relays, this.input.settings.seekList)) {
      if (selected !== undefined) {
        this.pools.push({ name: pool.name, probed: false, reachable: 0, relayCount: pool.relays.length });
        continue;
      }
      selected = await this.tryPool(pool);
    }
    return selected;
  }

  private async tryPool(listed: Pool): Promise<Selected | undefined> {
    const pool: Pool = { name: listed.name, relays: listed.relays.filter(isAutoSelectable) };
    this.emit({ type: 'pool-start', pool: pool.name, relayCount: pool.relays.length });
    const results = pool.relays.length === 0 ? new Map<string, ProbeResult>() : await this.probeRelays(pool, 'pool');
    let ranked = rankPool(pool, results, {
      clientId: this.input.clientId,
      tieBreak: this.input.settings.tieBreak,
      ...(this.deps.random === undefined ? {} : { random: this.deps.random }),
    });
    this.pools.push({
      name: pool.name,
      probed: pool.relays.length > 0,
      reachable: ranked.length,
      relayCount: pool.relays.length,
    });
    this.emit({ type: 'pool-probed', pool: pool.name, reachable: ranked.length, ranked });
    const stickTo = this.input.stickTo;
    if (stickTo !== undefined && ranked.length > 0) {
      const margin = applySwitchMargin(ranked, stickTo, this.input.settings.switchMarginHops);
      ranked = margin.ranked;
      if (margin.reason !== null) this.switchMargin = { kept: margin.kept, reason: margin.reason };
    }
    for (const entry of ranked) {
      const candidate: Candidate = {
        relay: entry.relay,
        address: entry.result.address,
        distance: entry.result.distance,
        rttMs: entry.result.rttMs,
        pool: pool.name,
        method: toCandidateMethod(entry.result.method),
      };
      const kept = this.switchMargin?.kept === true && entry === ranked[0];
      const selected = await this.tryRegister(
        candidate,
        `pool ${pool.name}: ${kept ? `${this.switchMargin!.reason}; ` : ''}${entry.reason}`,
      );
      if (selected !== undefined) return selected;
    }
    return undefined;
  }

  private async tryManualRelays(): Promise<Selected | undefined> {
    const specs = this.input.settings.manualRelays;
    this.emit({ type: 'stage', stage: 'manual' });
    const summary: PoolSummary = { name: MANUAL_POOL, probed: false, reachable: 0, relayCount: specs.length };
    this.pools.push(summary);
    const largestTtl = computeLargestTtl(this.input.settings.maximumTtlToPing);
    for (const [index, spec] of specs.entries()) {
      const position = `manual relay ${index + 1} of ${specs.length}`;
      const parsed = parseHostPort(spec);
      if ('error' in parsed) {
        this.skip(unparsedCandidate(spec, MANUAL_POOL, 'manual'), position, `not host[:port]: ${parsed.error}`);
        continue;
      }
      const relay: Relay = {
        host: parsed.host,
        port: parsed.port,
        groups: [],
        priority: 0,
        weight: DEFAULT_RELAY_WEIGHT,
      };
      summary.probed = true;
      const result = (await this.probeRelays({ name: MANUAL_POOL, relays: [relay] }, 'manual')).get(relayKey(relay));
      const candidate: Candidate = {
        relay,
        address: result?.address ?? null,
        distance: result?.distance ?? null,
        rttMs: result?.rttMs ?? null,
        pool: MANUAL_POOL,
        method: 'manual',
      };
      if (result === undefined || result.method === 'unreachable') {
        const why = result?.note ?? `no answer to an echo at TTL ${largestTtl}`;
        this.skip(candidate, position, why);
        continue;
      }
      summary.reachable++;
      const selected = await this.tryRegister(candidate, `${position}, answered (${describeDistance(result)})`);
      if (selected !== undefined) return selected;
    }
    return undefined;
  }

  /** A failover relay or the root server: no ICMP, an optional TCP liveness check, then registration. */
  private async tryDirect(
    spec: string,
    pool: string,
    method: CandidateMethod,
    reason: string,
  ): Promise<Selected | undefined> {
    const parsed = parseHostPort(spec);
    if ('error' in parsed) {
      this.skip(unparsedCandidate(spec, pool, method), reason, `not host[:port]: ${parsed.error}`);
      return undefined;
    }
    const [resolution] = await this.resolveHosts([parsed.host]);
    const candidate: Candidate = {
      relay: { host: parsed.host, port: parsed.port },
      address: resolution?.address ?? null,
      distance: null,
      rttMs: null,
      pool,
      method,
    };
    if (resolution === undefined || resolution.address === null) {
      this.skip(candidate, reason, `did not resolve: ${resolution?.address === null ? resolution.error : 'no answer'}`);
      return undefined;
    }
    const target = { host: parsed.host, port: parsed.port, address: resolution.address };
    if (this.deps.checkAlive !== undefined && !(await this.deps.checkAlive(target))) {
      this.skip(candidate, reason, `no TCP answer on port ${parsed.port}`);
      return undefined;
    }
    return this.tryRegister(candidate, reason);
  }

  /** Resolves and probes the relays of a pool; relays that do not resolve are reported as unreachable. */
  private async probeRelays(pool: Pool, purpose: 'pool' | 'manual'): Promise<Map<string, ProbeResult>> {
    const results = new Map<string, ProbeResult>();
    const resolutions = await this.resolveHosts(pool.relays.map((relay) => relay.host));
    const byHost = new Map(resolutions.map((resolution) => [resolution.host, resolution]));
    const targets: ProbeTarget[] = [];
    for (const relay of pool.relays) {
      const key = relayKey(relay);
      const resolution = byHost.get(relay.host);
      if (resolution === undefined || resolution.address === null) {
        const result = unreachableResult(
          { key, host: relay.host, address: null },
          `did not resolve: ${resolution?.address === null ? resolution.error : 'no answer'}`,
        );
        results.set(key, result);
        this.probes.push(result);
        continue;
      }
      targets.push({
        key,
        host: relay.host,
        address: resolution.address,
        family: resolution.family,
        port: relay.port,
        priority: relay.priority,
      });
    }
    if (targets.length === 0) return results;
    const preferAmong =
      purpose === 'pool'
        ? createTiePreference(pool.relays, {
            clientId: this.input.clientId,
            tieBreak: this.input.settings.tieBreak,
            ...(this.deps.random === undefined ? {} : { random: this.deps.random }),
          })
        : undefined;
    const report = await this.deps.probe(
      targets,
      pool,
      preferAmong === undefined ? { purpose } : { purpose, preferAmong },
    );
    const wanted = new Set(targets.map((target) => target.key));
    for (const result of report.results) {
      if (!wanted.has(result.key)) continue;
      results.set(result.key, result);
      this.probes.push(result);
    }
    return results;
  }

  /** Resolves each host once per selection. */
  private async resolveHosts(hosts: string[]): Promise<HostResolution[]> {
    const missing = [...new Set(hosts)].filter((host) => !this.resolutions.has(host));
    if (missing.length > 0) {
      const answers = await this.deps.resolve(missing);
      for (const answer of answers) this.resolutions.set(answer.host, answer);
      for (const host of missing) {
        if (!this.resolutions.has(host))
          this.resolutions.set(host, { host, address: null, error: 'resolver gave no answer' });
      }
    }
    return hosts.map((host) => this.resolutions.get(host)!);
  }

  private async tryRegister(candidate: Candidate, reason: string): Promise<Selected | undefined> {
    const key = relayKey(candidate.relay);
    const earlier = this.failedKeys.get(key);
    if (earlier !== undefined) {
      this.skip(candidate, reason, `registration already failed in this selection (${earlier})`);
      return undefined;
    }
    const avoided = this.input.avoid?.get(key);
    if (avoided !== undefined) {
      this.skip(candidate, reason, avoided);
      return undefined;
    }
    this.emit({ type: 'register-start', candidate, reason });
    let outcome: RegisterOutcome;
    try {
      outcome = await this.deps.register(candidate);
    } catch (error) {
      // Stopped by a signal, the attempt never came to a result: nothing failed, nothing is to be recorded.
      if (isRelaySelectError(error) && error.code === 'ABORTED') throw error;
      outcome = { status: 'failed', detail: error instanceof Error ? error.message : String(error) };
    }
    this.attempts.push({ candidate, reason, outcome });
    this.emit({ type: 'register-done', candidate, outcome });
    if (outcome.status === 'failed' || outcome.status === 'full') {
      this.failedKeys.set(key, `${candidate.pool}: ${outcome.detail}`);
      return undefined;
    }
    return {
      status: 'selected',
      chosen: candidate,
      registration: outcome,
      attempts: this.attempts,
      probes: this.probes,
      pools: this.pools,
      ...(this.switchMargin === undefined ? {} : { switchMargin: this.describeSwitchMargin(candidate) }),
    };
  }

  /** The switch margin's verdict as it turned out: a kept relay whose registration failed was not kept. */
  private describeSwitchMargin(chosen: Candidate): { kept: boolean; reason: string } {
    const margin = this.switchMargin!;
    const stickTo = this.input.stickTo;
    if (
      !margin.kept ||
      stickTo === undefined ||
      relayKey(chosen.relay).toLowerCase() === relayKey(stickTo).toLowerCase()
    )
      return margin;
    return { kept: false, reason: `${margin.reason}, but its registration did not succeed` };
  }

  private skip(candidate: Candidate, reason: string, detail: string): void {
    this.attempts.push({ candidate, reason, outcome: { status: 'skipped', detail } });
    this.emit({ type: 'skipped', candidate, detail });
  }

  private emit(event: SelectionEvent): void {
    this.deps.onEvent?.(event);
  }
}

function toCandidateMethod(method: ProbeResult['method']): CandidateMethod {
  // rankPool drops unreachable relays, so only measured methods arrive here.
  return method === 'unreachable' ? 'tcp' : method;
}

function unparsedCandidate(spec: string, pool: string, method: CandidateMethod): Candidate {
  return { relay: { host: spec.trim(), port: 0 }, address: null, distance: null, rttMs: null, pool, method };
}
