import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { loadSettings, type LoadSettingsOptions } from '../../src/config/load.js';
import type { ProbeSettings, RegisterSettings, Settings } from '../../src/config/settings.js';
import { isRelaySelectError, type RelaySelectError } from '../../src/errors.js';

/** What a test changes from the defaults; `probe` and `register` merge into theirs. */
export interface SettingsOverrides extends Partial<Omit<Settings, 'probe' | 'register'>> {
  probe?: Partial<ProbeSettings>;
  register?: Partial<RegisterSettings>;
}

/** The one settings builder of the tests: the documented defaults (DEFAULT_SETTINGS), overridable. */
export function settings(overrides: SettingsOverrides = {}): Settings {
  const { probe, register, ...rest } = overrides;
  return {
    ...DEFAULT_SETTINGS,
    ...rest,
    probe: { ...DEFAULT_SETTINGS.probe, ...probe },
    register: { ...DEFAULT_SETTINGS.register, tls: {}, ...register },
  };
}

/** The register settings of {@link settings}. */
export function registerSettings(overrides: Partial<RegisterSettings> = {}): RegisterSettings {
  return settings({ register: overrides }).register;
}

/** The RelaySelectError that `loadSettings` throws for these options; fails the test when it throws none. */
export async function loadSettingsError(loadOptions: LoadSettingsOptions): Promise<RelaySelectError> {
  try {
    await loadSettings(loadOptions);
  } catch (error) {
    if (isRelaySelectError(error)) return error;
    throw error;
  }
  throw new Error('loadSettings did not throw');
}
