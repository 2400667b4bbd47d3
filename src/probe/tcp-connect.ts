import { createConnection } from 'node:net';

export interface TcpConnectRequest {
  address: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Resolves true when a TCP connection was accepted; false on refusal, error, timeout or abort. */
export type TcpConnect = (request: TcpConnectRequest) => Promise<boolean>;

/** A plain TCP connect that is closed as soon as it is accepted (a refusal with RST counts as failure). */
export const connectTcp: TcpConnect = ({ address, port, timeoutMs, signal }) =>
  new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const socket = createConnection({ host: address, port });
    const finish = (connected: boolean): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(connected);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
