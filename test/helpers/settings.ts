import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import type { ProbeSettings, RegisterSettings, Settings } from '../../src/config/settings.js';

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
