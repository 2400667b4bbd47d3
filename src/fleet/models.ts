/**
 * Endpoint behaviours the simulator compares on the same fleet and events (DESIGN §14). A model only
 * changes settings and how answers are read; every endpoint still runs the real decision
 * (src/cycle/decide.ts), the real selection and ranking (src/select) and the real probe strategies
 * (src/probe).
 */
import type { Settings } from '../config/settings.js';
import type { HealthResult } from '../cycle/state.js';
import { classifyHealthStatus } from '../register/health.js';
import { interpretRegisterResponse } from '../register/http.js';
import type { RegisterOutcome } from '../register/types.js';

export const MODELS = ['default', 'bigfix', 'agent'] as const;
export type ModelName = (typeof MODELS)[number];

/** What a relay answers an HTTP request with, as the simulated network delivers it. */
export type RelayAnswer = { kind: 'http'; statusCode: number; body: string } | { kind: 'unreachable'; detail: string };

export interface FleetModel {
  name: ModelName;
  /** One line for summaries and pictures. */
  summary: string;
  /** The settings its endpoints run with, from the operator's. */
  settingsFor(base: Settings): Settings;
  /** What the cheap health check makes of an answer (DESIGN §7). */
  readHealth(answer: RelayAnswer): { health: HealthResult; detail: string };
  /** What a registration attempt makes of an answer (DESIGN §8). */
  readRegistration(answer: RelayAnswer): RegisterOutcome;
  /**
   * Subnet cooperation (DESIGN §13): one endpoint per subnet (the leader) probes and shares its table;
   * the others rank from it and confirm their choice with one echo at the maximum TTL.
   */
  sharesSubnetProbe: boolean;
}

function readHealthAsRelaySelect(answer: RelayAnswer): { health: HealthResult; detail: string } {
  if (answer.kind === 'unreachable') return { health: 'failing', detail: answer.detail };
  return { health: classifyHealthStatus(answer.statusCode), detail: `HTTP ${answer.statusCode}` };
}

function readRegistrationAsRelaySelect(answer: RelayAnswer): RegisterOutcome {
  if (answer.kind === 'unreachable') return { status: 'failed', detail: answer.detail };
  return interpretRegisterResponse(answer.statusCode, answer.body);
}

/** relay-select as shipped: inference probing, a 503 relay is kept with a back-off, jittered retries. */
const DEFAULT_MODEL: FleetModel = {
  name: 'default',
  summary:
    'relay-select: inference probing; a relay answering 503 is kept and checked with a growing back-off; retries with jitter',
  settingsFor: (base) => base,
  readHealth: readHealthAsRelaySelect,
  readRegistration: readRegistrationAsRelaySelect,
  sharesSubnetProbe: false,
};

/**
 * The classic behaviour as the vendor documents it: the TTL ladder, re-selection once resist-failure
 * runs out whatever the relay answered (a 503 is a failure like any other), retries doubling without
 * jitter.
 */
const BIGFIX_MODEL: FleetModel = {
  name: 'bigfix',
  summary:
    'classic: TTL ladder; a 503 counts as a failure, so resist-failure runs out and the fleet re-selects; retries double without jitter',
  settingsFor: (base) => ({ ...base, jitter: 0, probe: { ...base.probe, strategy: 'rounds' } }),
  readHealth: (answer) => {
    const read = readHealthAsRelaySelect(answer);
    return read.health === 'upstream-down'
      ? { health: 'failing', detail: `${read.detail}: counted as a failure` }
      : read;
  },
  readRegistration: (answer) => {
    const outcome = readRegistrationAsRelaySelect(answer);
    return outcome.status === 'upstream-down'
      ? { status: 'failed', detail: `${outcome.detail}: counted as a failure` }
      : outcome;
  },
  sharesSubnetProbe: false,
};

/**
 * How long a leader's measurement of a pool may be adopted, in leases (peer.leaseSeconds): as
 * src/agent/peer-service.ts publishes it (a test checks the two agree).
 */
export const PEER_TABLE_VALIDITY_LEASES = 5;

/** Seconds a leader's measurement stays adoptable with these settings. */
export function peerTableValiditySeconds(settings: Pick<Settings, 'peer'>): number {
  return PEER_TABLE_VALIDITY_LEASES * settings.peer.leaseSeconds;
}

/**
 * relay-select's agent with subnet cooperation (DESIGN §13), at the packet level. What the simulator
 * assumes of it:
 * - Every endpoint runs the agent with peer.enabled, and the subnet's first endpoint leads for the
 *   whole run (it never dies; the election and its heartbeats send no ICMP).
 * - A selection needs the pools it probes measured: a measurement younger than the table's validity
 *   (PEER_TABLE_VALIDITY_LEASES leases) is adopted; otherwise the leader measures the pool then — for
 *   itself, or at a follower's request — and its packets count for the leader.
 * - A follower then sends one echo at the maximum TTL to the relay it picked (or, when its selection
 *   found none, to the nearest the table names) and probes the pool itself when that echo does not
 *   confirm the table (checkConfirmation). The leader sends nothing for a table it already has.
 * - Endpoints decide at cron's times, as `default` does: an agent decides when its state falls due,
 *   which only moves each selection by less than one cron period.
 */
const AGENT_MODEL: FleetModel = {
  ...DEFAULT_MODEL,
  name: 'agent',
  summary:
    'relay-select agents: one endpoint per subnet measures (at most once per table validity) and shares its table; the others confirm their pick with one echo',
  sharesSubnetProbe: true,
};

export const FLEET_MODELS: Readonly<Record<ModelName, FleetModel>> = Object.freeze({
  default: DEFAULT_MODEL,
  bigfix: BIGFIX_MODEL,
  agent: AGENT_MODEL,
});
