import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import type { RegisterSettings, Settings } from '../../src/config/settings.js';
import type { RegistrationBody, RegistrationCandidate } from '../../src/register/types.js';

/** Register settings with the documented defaults, overridable per test. */
export function registerSettings(overrides: Partial<RegisterSettings> = {}): RegisterSettings {
  return { ...DEFAULT_SETTINGS.register, tls: {}, ...overrides };
}

/** Full settings with the documented defaults; only `register` and `probe.tcpTimeoutMs` matter here. */
export function settings(register: Partial<RegisterSettings> = {}, tcpTimeoutMs = 1000): Settings {
  return {
    ...DEFAULT_SETTINGS,
    stateDir: '/tmp/relay-select-test-state',
    probe: { ...DEFAULT_SETTINGS.probe, tcpTimeoutMs },
    register: registerSettings(register),
  };
}

export function registrationBody(overrides: Partial<RegistrationBody> = {}): RegistrationBody {
  return { clientId: 'client-7f3a', hostname: 'laptop-42', distance: 3, rttMs: 1.25, pool: 'branch-lyon', version: '0.1.0', ...overrides };
}

export function candidate(overrides: Partial<RegistrationCandidate> & { host?: string; port?: number } = {}): RegistrationCandidate {
  const { host = '127.0.0.1', port = 52311, ...rest } = overrides;
  return { relay: { host, port }, address: null, distance: 2, rttMs: 0.5, pool: 'dmz', ...rest };
}
