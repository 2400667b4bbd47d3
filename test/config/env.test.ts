import { describe, expect, it } from 'vitest';
import { NON_SETTING_ENVIRONMENT_VARIABLES, settingsFromEnvironment } from '../../src/config/env.js';
import { SETTING_DOCS, environmentVariableOf } from '../../src/config/setting-docs.js';

describe('settingsFromEnvironment', () => {
  it('maps camelCase paths to upper snake case, nested levels joined by _', () => {
    expect(environmentVariableOf('maximumTtlToPing')).toBe('RELAY_SELECT_MAXIMUM_TTL_TO_PING');
    expect(environmentVariableOf('probe.strategy')).toBe('RELAY_SELECT_PROBE_STRATEGY');
    expect(environmentVariableOf('register.tls.ca')).toBe('RELAY_SELECT_REGISTER_TLS_CA');
    expect(environmentVariableOf('probe.tcpTimeoutMs')).toBe('RELAY_SELECT_PROBE_TCP_TIMEOUT_MS');
    const names = SETTING_DOCS.map((doc) => doc.environment);
    expect(new Set(names).size).toBe(names.length);
    for (const name of NON_SETTING_ENVIRONMENT_VARIABLES) expect(names).not.toContain(name);
  });

  it('reads numbers, booleans, lists and nested settings', () => {
    const result = settingsFromEnvironment({
      RELAY_SELECT_MAXIMUM_TTL_TO_PING: '20',
      RELAY_SELECT_AUTOMATIC: 'no',
      RELAY_SELECT_JITTER: '0.2',
      RELAY_SELECT_SEEK_LIST: 'HQ;*',
      RELAY_SELECT_PROBE_STRATEGY: 'rounds',
      RELAY_SELECT_PROBE_TCP_FALLBACK: 'false',
      RELAY_SELECT_REGISTER_TLS_CA: '/etc/ssl/relay-ca.pem',
      PATH: '/usr/bin',
    });
    expect(result.problems).toEqual([]);
    expect(result.values).toEqual({
      maximumTtlToPing: 20,
      automatic: false,
      jitter: 0.2,
      seekList: 'HQ;*',
      probe: { strategy: 'rounds', tcpFallback: false },
      register: { tls: { ca: '/etc/ssl/relay-ca.pem' } },
    });
    expect(result.variables['probe.strategy']).toBe('RELAY_SELECT_PROBE_STRATEGY');
  });

  it('names the variable, the value and the range of a bad value', () => {
    expect(settingsFromEnvironment({ RELAY_SELECT_MAXIMUM_TTL_TO_PING: 'abc' }).problems).toEqual([
      'environment RELAY_SELECT_MAXIMUM_TTL_TO_PING: "abc" is not a whole number; allowed 1..255',
    ]);
    expect(settingsFromEnvironment({ RELAY_SELECT_MAXIMUM_TTL_TO_PING: '300' }).problems).toEqual([
      'environment RELAY_SELECT_MAXIMUM_TTL_TO_PING: 300 is out of range; allowed 1..255',
    ]);
    expect(settingsFromEnvironment({ RELAY_SELECT_PROBE_STRATEGY: 'fast' }).problems).toEqual([
      'environment RELAY_SELECT_PROBE_STRATEGY: "fast" is not allowed; allowed inference, rounds',
    ]);
    expect(settingsFromEnvironment({ RELAY_SELECT_AUTOMATIC: 'maybe' }).problems).toEqual([
      'environment RELAY_SELECT_AUTOMATIC: "maybe" is not true or false; allowed true, false, 1, 0, yes, no',
    ]);
  });

  it('rejects unknown RELAY_SELECT_* names but not the register hook outputs or an allow-list', () => {
    expect(settingsFromEnvironment({ RELAY_SELECT_MAXIMUM_TTL: '20' }).problems).toEqual([
      'environment RELAY_SELECT_MAXIMUM_TTL: unknown variable (did you mean RELAY_SELECT_MAXIMUM_TTL_TO_PING?)',
    ]);
    const hookOutputs = Object.fromEntries(NON_SETTING_ENVIRONMENT_VARIABLES.map((name) => [name, 'x']));
    expect(settingsFromEnvironment(hookOutputs)).toEqual({ values: {}, variables: {}, problems: [] });
    expect(settingsFromEnvironment({ RELAY_SELECT_DEBUG: '1' }, { allow: ['RELAY_SELECT_DEBUG'] }).problems).toEqual(
      [],
    );
    expect(settingsFromEnvironment({ RELAY_SELECT_DEBUG: '1' }).problems).toHaveLength(1);
  });
});
