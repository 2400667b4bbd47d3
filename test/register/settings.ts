import type { RegisterSettings, Settings } from '../../src/config/settings.js';
import type { RegistrationBody, RegistrationCandidate } from '../../src/register/types.js';

/** Register settings with the documented defaults, overridable per test. */
export function registerSettings(overrides: Partial<RegisterSettings> = {}): RegisterSettings {
  return {
    mode: 'http',
    url: '{scheme}://{host}:{port}/relay-select/v1/register',
    scheme: 'http',
    timeoutMs: 5000,
    tls: {},
    ...overrides,
  };
}

/** Full settings with the documented defaults; only `register` and `probe.tcpTimeoutMs` matter here. */
export function settings(register: Partial<RegisterSettings> = {}, tcpTimeoutMs = 1000): Settings {
  return {
    profile: 'default',
    maximumTtlToPing: 255,
    resistFailureIntervalSeconds: 600,
    minRetryIntervalSeconds: 60,
    maxRetryIntervalSeconds: 7200,
    intervalSeconds: 21600,
    seekList: [],
    failoverRelays: [],
    automatic: true,
    manualRelays: [],
    ipMode: 'auto',
    relayList: '/etc/relay-select/Relay.dat',
    stateDir: '/tmp/relay-select-test-state',
    tieBreak: 'hash',
    jitter: 0.1,
    probe: {
      strategy: 'inference',
      timeoutMs: 1000,
      retries: 1,
      ratePps: 1000,
      burst: 50,
      verifyMargin: 2,
      tcpFallback: true,
      tcpTimeoutMs,
    },
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
