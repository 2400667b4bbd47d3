import { RelaySelectError } from './errors.js';

/** The error of work stopped through its AbortSignal: code ABORTED, the signal's reason as its cause. */
export function abortedError(signal: AbortSignal | undefined, message: string): RelaySelectError {
  return new RelaySelectError('ABORTED', message, { cause: signal?.reason });
}

/** Throws {@link abortedError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, message: string): void {
  if (signal?.aborted) throw abortedError(signal, message);
}
