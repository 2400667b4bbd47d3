/**
 * `relay-select doctor`: one line per check (✔ or ✘ and the fix), or `--json`. Exit status 0 when every
 * check passes, 1 when one fails: a status of this command alone, not an error of the exit-status table
 * (a failed check is a finding, not a failure of doctor).
 */
import { createRequire } from 'node:module';
import type { LoadedSettings } from '../../../config/load.js';
import type { Settings } from '../../../config/settings.js';
import type { CommandOptions } from '../../command-specs.js';
import type { CliContext } from '../../context.js';
import { exitCode } from '../../exit-codes.js';
import { loadCliSettingsWithSources, settingsFromFlagsOnly } from '../../load-cli-settings.js';
import { checkClock, checkNodeVersion, fail, type DoctorCheck } from './checks.js';
import {
  inspectAddon,
  inspectCodeCache,
  inspectCurrentRelay,
  inspectIcmp,
  inspectRelayList,
  inspectSettings,
  inspectStateDir,
  readStateQuietly,
} from './inspect.js';
import { renderDoctorJson, renderDoctorLine } from './render.js';

export type DoctorOptions = CommandOptions<'doctor'>;

/** The exit status of a doctor run with a failed check. */
export const DOCTOR_CHECK_FAILED = 1;

function enginesRange(): string {
  const manifest = createRequire(import.meta.url)('../../../../package.json') as { engines: { node: string } };
  return manifest.engines.node;
}

export async function run(options: DoctorOptions, context: CliContext): Promise<number> {
  let loaded: LoadedSettings | undefined;
  let loadError: unknown;
  try {
    loaded = await loadCliSettingsWithSources(options, context);
  } catch (error) {
    loadError = error;
  }
  const settings: Settings = loaded?.settings ?? settingsFromFlagsOnly(options, context);
  const now = new Date();
  const addon = inspectAddon();
  const { state, problem: stateProblem } = await readStateQuietly(settings.stateDir);
  const stateDir = await inspectStateDir(settings.stateDir, context.uid);
  const checks: DoctorCheck[] = [
    checkNodeVersion(process.versions.node, enginesRange()),
    inspectCodeCache(),
    addon,
    inspectIcmp(settings, addon.ok),
    inspectSettings(loaded?.sources ?? [], loadError, context.cwd, context.uid),
    stateProblem !== undefined && stateDir.ok
      ? fail(
          'state-dir',
          `${settings.stateDir}: ${stateProblem}`,
          'nothing to do by hand: relay-select run moves it aside and starts afresh; look at it first if it keeps happening',
        )
      : stateDir,
    await inspectRelayList(settings.relayList, now, context.uid),
    await inspectCurrentRelay(state, settings),
    checkClock(state, now, settings),
  ];
  if (context.output.json) context.output.data(renderDoctorJson(checks));
  else
    for (const check of checks) {
      if (check.ok) context.output.line(renderDoctorLine(check));
      else context.output.important(renderDoctorLine(check));
    }
  return checks.every((check) => check.ok) ? exitCode('ok') : DOCTOR_CHECK_FAILED;
}
