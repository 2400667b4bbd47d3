/**
 * The selection's probe when agents cooperate (DESIGN §13), through the cycle's seam
 * (RunCycleOptions.overrideProbe): the leader probes and shares each pool; a follower waits at most one
 * lease for the leader's table, adopts it when the adoption rules allow, confirms the relay it would
 * choose with one echo at the maximum TTL — and in every other case probes the pool itself.
 */
import type { Clock } from '../clock.js';
import type { Settings } from '../config/settings.js';
import type { PoolProbe, PoolProbeOverride, PeerTableUse, SelectionFacts } from '../cycle/run-cycle.js';
import type { ProbeReport, ProbeTarget } from '../probe/types.js';
import type { Pool } from '../relays/relay.js';
import { rankPool } from '../select/rank.js';
import { toPeerTableEntries } from './peer-message.js';
import type { PeerService } from './peer-service.js';
import { adoptPeerTable, checkConfirmation, peerGroupOf } from './peer-table.js';

interface PeerProbeOptions {
  peer: PeerService;
  settings: Settings;
  clock: Clock;
  /**
   * `cycle`: the agent's own selection (lead and share, or follow); `measure`: the leader measuring a pool
   * a follower asked for, always by probing.
   */
  mode: 'cycle' | 'measure';
  signal?: AbortSignal;
}

/** Builds RunCycleOptions.overrideProbe for one cycle. */
export function createPeerProbe(
  options: PeerProbeOptions,
): (own: PoolProbe, facts: SelectionFacts) => PoolProbeOverride {
  return (own, facts) => {
    const { peer, settings, clock } = options;
    peer.setGroup(peerGroupOf(facts.relayListDigest, settings));
    const adoptedPools: string[] = [];
    let adopted: Omit<PeerTableUse, 'pools'> | null = null;
    const notes: string[] = [];

    const probeAndShare = async (targets: ProbeTarget[], pool: Pool): Promise<ProbeReport> => {
      const report = await own(targets, pool, { purpose: 'pool' });
      const measuredAtMs = clock.now().getTime();
      peer.publishPool(
        {
          name: pool.name,
          relayCount: pool.relays.length,
          measuredAtMs,
          validUntilMs: measuredAtMs + peer.tableValidityMs,
          entries: toPeerTableEntries(report.results),
        },
        facts.relayListDigest,
        settings.seekList,
      );
      return report;
    };

    const probe: PoolProbe = async (targets, pool, context) => {
      if (context.purpose !== 'pool') return own(targets, pool, context);
      if (options.mode === 'measure') return probeAndShare(targets, pool);
      // One lease from when the election can name a leader: an agent that just started listens first.
      const deadlineMs = Math.max(clock.now().getTime(), peer.discoveryEndsAtMs) + settings.peer.leaseSeconds * 1000;
      const answer = await peer.awaitLeaderTable(pool.name, deadlineMs, options.signal);
      if (answer.kind === 'lead') {
        // A follower's request may have made us measure the pool moments ago: our own fresh table serves us too.
        const mine = peer.ownTableWith(pool.name);
        const own =
          mine === null
            ? null
            : adoptPeerTable({
                table: mine,
                from: 'this agent',
                relayListDigest: facts.relayListDigest,
                seekList: settings.seekList,
                pool,
                targets,
                nowMs: clock.now().getTime(),
              });
        if (own?.ok === true) {
          notes.push(
            `pool ${pool.name}: used the measurement this agent made for its peers at ${new Date(own.measuredAtMs).toISOString()}`,
          );
          return { results: own.results, packetsSent: 0, tcpAttempts: 0, wallMs: 0 };
        }
        return probeAndShare(targets, pool);
      }
      if (answer.kind === 'timeout') {
        notes.push(
          `no table from a leader within one lease (${settings.peer.leaseSeconds} s): probed pool ${pool.name} itself`,
        );
        return own(targets, pool, context);
      }
      if (answer.kind === 'lacks-pool') {
        notes.push(`the leader ${answer.from} has no measurement of pool ${pool.name}: probed it itself`);
        return own(targets, pool, context);
      }
      const adoption = adoptPeerTable({
        table: answer.table,
        from: answer.from,
        relayListDigest: facts.relayListDigest,
        seekList: settings.seekList,
        pool,
        targets,
        nowMs: clock.now().getTime(),
      });
      if (!adoption.ok) {
        if (adoption.rejected) peer.countRejected('bad-table', answer.from, adoption.reason);
        notes.push(`not adopting the table of ${answer.from}: ${adoption.reason}; probed pool ${pool.name} itself`);
        return own(targets, pool, context);
      }
      const results = new Map(adoption.results.map((result) => [result.key, result]));
      const [choice] = rankPool(pool, results, { clientId: facts.clientId, tieBreak: settings.tieBreak });
      const adopt = (confirmEchoes: number): void => {
        adopted = {
          from: answer.from,
          measuredAt: new Date(adoption.measuredAtMs).toISOString(),
          confirmEchoes: (adopted?.confirmEchoes ?? 0) + confirmEchoes,
        };
        adoptedPools.push(pool.name);
      };
      // Nothing reachable from the leader: the selection moves on to the next pool, as it would have.
      if (choice === undefined) {
        adopt(0);
        return { results: adoption.results, packetsSent: 0, tcpAttempts: 0, wallMs: 0 };
      }
      const target = targets.find((entry) => entry.key === choice.result.key)!;
      const confirmation = await own([target], pool, { purpose: 'confirm' });
      const check = checkConfirmation(choice.result, confirmation.results[0]);
      if (!check.ok) {
        notes.push(`the table of ${answer.from} was not confirmed (${check.reason}): probed pool ${pool.name} itself`);
        return own(targets, pool, context);
      }
      adopt(confirmation.packetsSent);
      return { ...confirmation, results: adoption.results };
    };

    return {
      probe,
      peerTable: () => (adopted === null ? null : { ...adopted, pools: [...adoptedPools] }),
      peerNotes: () => [...notes],
    };
  };
}
