/**
 * relay-select as a library. The CLI (src/cli) is one user of these functions; an agent that wants
 * the selection without the cron cycle calls `selectRelay` with its own probe and registrar.
 */
export { RelaySelectError, isRelaySelectError } from './errors.js';
export type { ErrorCode, RelaySelectErrorOptions } from './errors.js';

export type { Relay, Pool, Diagnostic } from './relays/relay.js';
export { DEFAULT_RELAY_PORT, relayKey, formatDiagnostic } from './relays/relay.js';
export { parseRelayList, parseRelayListBuffer, type ParseRelayListOptions, type RelayListLimits, type RelayListResult } from './relays/parse.js';
export { loadRelayList, type LoadRelayListOptions } from './relays/load.js';
export { buildPools, ALL_RELAYS_POOL } from './relays/pools.js';
export { parseHostPort, type HostPort } from './relays/host-port.js';

export type { Settings, ProbeSettings, ProbeTransport, RegisterSettings } from './config/settings.js';
export { loadSettings, SETTING_DOCS, type LoadSettingsOptions, type LoadedSettings } from './config/load.js';
export { DEFAULT_SETTINGS, PROFILES } from './config/defaults.js';
export { parseClientSettings, type ClientSettingsResult, type ParseClientSettingsOptions } from './config/client-settings.js';

export type { ProbeTarget, ProbeResult, ProbeOptions, ProbeReport, ProbeMethod, ProbeProgress } from './probe/types.js';
export { probeTargets, resolveTargets, estimateProbeBudget, openIcmpTransport, createMemoryTransport, LADDER_TTLS } from './probe/index.js';
export type {
  ProbeDependencies,
  TargetHost,
  UnresolvedHost,
  LookupAddress,
  ProbeBudget,
  IcmpTransport,
  ReceivedIcmp,
  SendReceipt,
  TransportDescription,
  IcmpSocketTransportOptions,
  TransportKind,
  MemoryTransport,
  MemoryTransportOptions,
  SentEcho,
  SimulatedHost,
  TimeExceededLimit,
  TcpConnect,
  TcpConnectRequest,
} from './probe/index.js';

export type { Candidate, SelectionOutcome, RankedRelay, SelectRelayDeps } from './select/types.js';
export { selectRelay } from './select/select-relay.js';
export { rankPool } from './select/rank.js';
export { pickByRendezvous } from './select/rendezvous.js';
export { explainSelection } from './select/explain.js';

export type { RegisterOutcome } from './register/types.js';
export { createRegistrar, checkRelayHealth, type RegistrarDeps, type CheckRelayHealthDeps } from './register/index.js';

export type { State } from './cycle/state.js';
export { decideCycle, applySelectionResult, type CycleSelectionResult, type CycleSettings } from './cycle/decide.js';
export { runCycle, reportRelayFailure, type RunReport, type RunCycleOptions } from './cycle/run-cycle.js';
export { createStateStore, type StateStore, type StateStoreOptions, type StateAccessOptions, type StateReadResult } from './cycle/state-store.js';
