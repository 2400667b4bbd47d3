import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, PROFILES, defaultStateDir } from '../../src/config/defaults.js';
import { checkSettingValue, validateSettingsInput } from '../../src/config/schema.js';
import { SETTING_DOCS, valueAtPath, type SettingPath } from '../../src/config/setting-docs.js';

// Listing every path here makes tsc fail when Settings gains a field this test does not know.
const EVERY_PATH: Record<SettingPath, true> = {
  profile: true,
  maximumTtlToPing: true,
  resistFailureIntervalSeconds: true,
  minRetryIntervalSeconds: true,
  maxRetryIntervalSeconds: true,
  intervalSeconds: true,
  seekList: true,
  failoverRelays: true,
  automatic: true,
  manualRelays: true,
  rootServer: true,
  ipMode: true,
  relayList: true,
  stateDir: true,
  clientId: true,
  tieBreak: true,
  jitter: true,
  switchMarginHops: true,
  metricsFile: true,
  'probe.strategy': true,
  'probe.timeoutMs': true,
  'probe.retries': true,
  'probe.ratePps': true,
  'probe.burst': true,
  'probe.verifyMargin': true,
  'probe.verify': true,
  'probe.tcpFallback': true,
  'probe.tcpTimeoutMs': true,
  'probe.transport': true,
  'register.mode': true,
  'register.url': true,
  'register.scheme': true,
  'register.timeoutMs': true,
  'register.tls.ca': true,
  'register.tls.cert': true,
  'register.tls.key': true,
  'register.command': true,
  'peer.enabled': true,
  'peer.keyFile': true,
  'peer.port': true,
  'peer.leaseSeconds': true,
};

describe('defaults', () => {
  it('has the DESIGN §4 values', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({
      maximumTtlToPing: 255,
      resistFailureIntervalSeconds: 600,
      minRetryIntervalSeconds: 60,
      maxRetryIntervalSeconds: 7200,
      intervalSeconds: 21_600,
      automatic: true,
      ipMode: 'auto',
      tieBreak: 'hash',
      jitter: 0.1,
      switchMarginHops: 1,
      metricsFile: undefined,
      probe: {
        strategy: 'inference',
        timeoutMs: 1000,
        retries: 1,
        ratePps: 1000,
        burst: 50,
        verifyMargin: 2,
        verify: 'paths',
        tcpFallback: true,
        tcpTimeoutMs: 1000,
        transport: 'auto',
      },
      register: {
        mode: 'http',
        scheme: 'http',
        timeoutMs: 5000,
        url: '{scheme}://{host}:{port}/relay-select/v1/register',
      },
      peer: { enabled: false, keyFile: undefined, port: 52312, leaseSeconds: 60 },
    });
    expect(PROFILES.large).toEqual({
      maximumTtlToPing: 20,
      resistFailureIntervalSeconds: 3600,
      minRetryIntervalSeconds: 600,
      maxRetryIntervalSeconds: 14_400,
      intervalSeconds: 43_200,
    });
  });

  it('documents exactly the settings of the Settings type', () => {
    expect(SETTING_DOCS.map((doc) => doc.path).sort()).toEqual(Object.keys(EVERY_PATH).sort());
  });

  it('passes its own validation, and so do the profiles', () => {
    for (const doc of SETTING_DOCS) {
      const value = valueAtPath(DEFAULT_SETTINGS, doc.path);
      if (value !== undefined) expect(checkSettingValue(doc.path, value), doc.path).toEqual({ value });
    }
    expect(validateSettingsInput({ ...PROFILES.large, profile: 'large' }, 'x').ok).toBe(true);
  });

  it('is frozen all the way down', () => {
    expect(Object.isFrozen(DEFAULT_SETTINGS.probe)).toBe(true);
    expect(Object.isFrozen(DEFAULT_SETTINGS.register.tls)).toBe(true);
    expect(Object.isFrozen(PROFILES.large)).toBe(true);
  });
});

describe('defaultStateDir', () => {
  it('uses /var/lib/relay-select for root whatever the environment', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/x', HOME: '/root' }, 0)).toBe('/var/lib/relay-select');
  });

  it('uses $XDG_STATE_HOME when it is absolute, else ~/.local/state', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/home/ann/.state', HOME: '/home/ann' }, 1000)).toBe(
      '/home/ann/.state/relay-select',
    );
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative', HOME: '/home/ann' }, 1000)).toBe(
      '/home/ann/.local/state/relay-select',
    );
    expect(defaultStateDir({ HOME: '/home/bob' }, 1001)).toBe('/home/bob/.local/state/relay-select');
  });
});
