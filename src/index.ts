export { RelaySelectError, isRelaySelectError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Relay, Pool, Diagnostic } from './relays/relay.js';
export type { Settings, ProbeSettings, RegisterSettings } from './config/settings.js';
export type { ProbeTarget, ProbeResult, ProbeOptions, ProbeReport, ProbeMethod } from './probe/types.js';
