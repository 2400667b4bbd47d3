export { probeTargets, type ProbeDependencies } from './strategies.js';
export { resolveTargets, describeUnresolved, type TargetHost, type UnresolvedHost, type LookupAddress } from './resolve.js';
export { estimateProbeBudget, type ProbeBudget } from './budget.js';
export { createRawTransport, type IcmpTransport, type ReceivedIcmp, type RawTransportOptions } from './transport.js';
export { createMemoryTransport, type MemoryTransport, type MemoryTransportOptions, type SentEcho, type SimulatedHost, type TimeExceededLimit } from './memory-transport.js';
export { LADDER_TTLS } from './ttl-ladder.js';
export { connectTcp, type TcpConnect, type TcpConnectRequest } from './tcp-connect.js';
