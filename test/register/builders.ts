import type { RegistrationBody, RegistrationCandidate } from '../../src/register/types.js';

export function registrationBody(overrides: Partial<RegistrationBody> = {}): RegistrationBody {
  return {
    clientId: 'client-7f3a',
    hostname: 'laptop-42',
    distance: 3,
    rttMs: 1.25,
    pool: 'branch-lyon',
    version: '0.1.0',
    ...overrides,
  };
}

export function candidate(
  overrides: Partial<RegistrationCandidate> & { host?: string; port?: number } = {},
): RegistrationCandidate {
  const { host = '127.0.0.1', port = 52311, ...rest } = overrides;
  return { relay: { host, port }, address: null, distance: 2, rttMs: 0.5, pool: 'dmz', ...rest };
}
