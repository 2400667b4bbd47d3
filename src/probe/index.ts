export { probeTargets, type ProbeDependencies } from './strategies.js';
export {
  resolveTargets,
  describeUnresolved,
  type TargetHost,
  type UnresolvedHost,
  type LookupAddress,
} from './resolve.js';
export { estimateProbeBudget, type ProbeBudget } from './budget.js';
export type { IcmpTransport, ReceivedIcmp, SendReceipt, TransportDescription } from './transport.js';
export { openIcmpTransport, type IcmpSocketTransportOptions, type TransportKind } from './icmp-socket-transport.js';
export {
  createMemoryTransport,
  type MemoryTransport,
  type MemoryTransportOptions,
  type SentEcho,
  type SimulatedHost,
  type SimulatedPath,
  type TimeExceededLimit,
} from './memory-transport.js';
export { LADDER_TTLS } from './ttl-ladder.js';
export { connectTcp, type TcpConnect, type TcpConnectRequest } from './tcp-connect.js';
