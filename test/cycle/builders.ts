import { emptyState, type CurrentRelay, type State } from '../../src/cycle/state.js';

export const T0 = new Date('2024-03-01T12:00:00.000Z');

export function at(secondsAfterT0: number): Date {
  return new Date(T0.getTime() + secondsAfterT0 * 1000);
}

export function currentRelay(overrides: Partial<CurrentRelay> = {}): CurrentRelay {
  return {
    host: 'relay-a.corp.example',
    port: 52311,
    address: '198.18.0.10',
    distance: 2,
    rttMs: 1.5,
    pool: '*',
    method: 'echo-ttl',
    registeredAt: T0.toISOString(),
    ...overrides,
  };
}

/** A state whose relay was selected at T0, healthy. */
export function state(overrides: Partial<State> = {}): State {
  return {
    ...emptyState('client-1'),
    current: currentRelay(),
    lastSelectionAt: T0.toISOString(),
    lastAttemptAt: T0.toISOString(),
    ...overrides,
  };
}
