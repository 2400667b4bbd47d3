/**
 * relay-select as a library. The CLI (src/cli) is one user of these functions; an agent that wants
 * the selection without the cron cycle calls `selectRelay` with its own probe and registrar.
 */
export { RelaySelectError, isRelaySelectError } from './errors.js';
export type { ErrorCode, RelaySelectErrorOptions } from './errors.js';

export type { Relay, Pool, Diagnostic } from './relays/relay.js';
export { DEFAULT_RELAY_PORT, relayKey, formatDiagnostic } from './relays/relay.js';
export {
  parseRelayList,
  parseRelayListBuffer,
  type ParseRelayListOptions,
  type RelayListLimits,
  type RelayListResult,
} from './relays/parse.js';
export { loadRelayList, type LoadRelayListOptions } from './relays/load.js';
export { buildPools, ALL_RELAYS_POOL } from './relays/pools.js';
export { parseHostPort, type HostPort } from './relays/host-port.js';

export type { Settings, ProbeSettings, ProbeTransport, ProbeVerify, RegisterSettings } from './config/settings.js';
export { loadSettings, SETTING_DOCS, type LoadSettingsOptions, type LoadedSettings } from './config/load.js';
export { DEFAULT_SETTINGS, PROFILES } from './config/defaults.js';
export {
  parseClientSettings,
  detectClientSettingsForm,
  type ClientSettingsForm,
  type ClientSettingsResult,
  type ParseClientSettingsOptions,
} from './config/client-settings.js';

export type {
  ProbeTarget,
  ProbeResult,
  ProbeOptions,
  ProbeReport,
  ProbeMethod,
  ProbeProgress,
  VerifyMode,
  TieCandidate,
} from './probe/types.js';
export {
  probeTargets,
  resolveTargets,
  estimateProbeBudget,
  openIcmpTransport,
  createMemoryTransport,
  LADDER_TTLS,
} from './probe/index.js';
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
  SimulatedPath,
  TimeExceededLimit,
  TcpConnect,
  TcpConnectRequest,
} from './probe/index.js';

export type { Candidate, SelectionOutcome, RankedRelay, SelectRelayDeps, ProbeContext } from './select/types.js';
export { selectRelay } from './select/select-relay.js';
export { rankPool } from './select/rank.js';
export { pickByRendezvous } from './select/rendezvous.js';
export { explainSelection } from './select/explain.js';
export { applySwitchMargin, type SwitchMarginDecision } from './select/switch-margin.js';

export type { RegisterOutcome } from './register/types.js';
export { createRegistrar, checkRelayHealth, type RegistrarDeps, type CheckRelayHealthDeps } from './register/index.js';

export type { State, NetworkFingerprint } from './cycle/state.js';
export { describeNetworkChange } from './cycle/network-fingerprint.js';
export { readNetworkFingerprint, type ReadNetworkFingerprintOptions } from './cycle/read-network-fingerprint.js';
export { detectDistanceJump, DISTANCE_JUMP_HOPS, type DistanceJump } from './cycle/distance-jump.js';
export { writeRunMetrics } from './metrics/metrics-file.js';
export { buildRunMetrics, type RunMetricFacts } from './metrics/run-metrics.js';
export { renderPrometheusText, type MetricFamily, type MetricSample } from './metrics/prometheus-text.js';
export { decideCycle, applySelectionResult, type CycleSelectionResult, type CycleSettings } from './cycle/decide.js';
export { runCycle, reportRelayFailure, type RunReport, type RunCycleOptions } from './cycle/run-cycle.js';
export {
  createStateStore,
  type StateStore,
  type StateStoreOptions,
  type StateAccessOptions,
  type StateReadResult,
} from './cycle/state-store.js';

export { generateFleet, type Fleet, type GenerateFleetOptions } from './fleet/fleet.js';
export {
  buildFleet,
  profilesOfFleet,
  profileFromProbeJson,
  profileFromNearestHops,
  type FleetInput,
} from './fleet/fleet-input.js';
export { parseFleetTopology, type ParseFleetTopologyResult, type TopologyFileProblem } from './fleet/topology-file.js';
export { planScenario, SCENARIOS, type ScenarioName, type ScenarioPlan } from './fleet/scenarios.js';
export { MODELS, FLEET_MODELS, type FleetModel, type ModelName } from './fleet/models.js';
export {
  simulateFleet,
  createSimulationCache,
  type SimulateOptions,
  type SimulationResult,
  type ModelRun,
  type SimulationCache,
  type RatePair,
  type RelayLoad,
} from './fleet/simulate.js';
export { simulateScenarios } from './fleet/parallel.js';
export { estimateFleet, type EstimateOptions, type FleetEstimate } from './fleet/estimate.js';
export {
  recommendSettings,
  type Recommendation,
  type RecommendOptions,
  type RecommendedSetting,
} from './fleet/recommend.js';
export { renderSimulationSvg } from './fleet/chart-svg.js';
export { renderSimulationJson } from './fleet/views.js';
