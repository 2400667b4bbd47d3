/**
 * `estimate --recommend --budget-pps X`: settings that keep the worst minute of every scenario under X
 * echo requests per second, found by a greedy search over the settings an operator tunes for a large
 * fleet (DESIGN §4): each step takes the one change that lowers the worst minute most, until it is
 * under the budget or nothing helps. Every candidate is judged by `estimateModel`.
 */
import { CLIENT_SETTING_NAMES } from '../config/client-settings.js';
import type { Settings } from '../config/settings.js';
import { estimateModel, type EstimateOptions, type ModelEstimate } from './estimate.js';
import { FLEET_MODELS, type ModelName } from './models.js';
import type { ScenarioName } from './scenarios.js';

/** A setting the search may change, with its path, the clientsettings.cfg name when there is one. */
export interface RecommendedSetting {
  setting: string;
  value: number;
  /** The value before the search. */
  was: number;
  /** BigFix's name of the setting, when clientsettings.cfg has one. */
  clientSetting: string | null;
}

export interface Recommendation {
  model: ModelName;
  budgetPps: number;
  /** Whether the worst minute is under the budget with the recommended settings. */
  met: boolean;
  before: { scenario: ScenarioName; echoRequestsPerSecond: number };
  after: { scenario: ScenarioName; echoRequestsPerSecond: number };
  settings: RecommendedSetting[];
  /** What else would help when the settings alone are not enough. */
  note: string | null;
}

const DAY_SECONDS = 86_400;

interface Move {
  setting: keyof Pick<
    Settings,
    | 'intervalSeconds'
    | 'resistFailureIntervalSeconds'
    | 'minRetryIntervalSeconds'
    | 'maxRetryIntervalSeconds'
    | 'maximumTtlToPing'
    | 'jitter'
  >;
  next: (settings: Settings) => number | null;
}

/** Changes that make a fleet gentler, each in one step. */
function movesFor(model: ModelName, neededTtl: number): Move[] {
  const doubled = (setting: Move['setting'], limit: number): Move => ({
    setting,
    next: (settings) => (settings[setting] < limit ? Math.min(limit, settings[setting] * 2) : null),
  });
  const moves: Move[] = [
    doubled('intervalSeconds', 2 * DAY_SECONDS),
    doubled('maxRetryIntervalSeconds', DAY_SECONDS),
    {
      setting: 'minRetryIntervalSeconds',
      next: (settings) =>
        settings.minRetryIntervalSeconds * 2 <= Math.min(3600, settings.maxRetryIntervalSeconds)
          ? settings.minRetryIntervalSeconds * 2
          : null,
    },
    doubled('resistFailureIntervalSeconds', 4 * 3600),
    // A lower TTL cap shortens only probes that find nothing (the ladder climbs to the cap); it must stay above every relay's distance.
    { setting: 'maximumTtlToPing', next: (settings) => (settings.maximumTtlToPing > neededTtl ? neededTtl : null) },
  ];
  // bigfix has no jitter to give (its retries double in step by definition).
  if (model !== 'bigfix')
    moves.push({
      setting: 'jitter',
      next: (settings) => (settings.jitter < 0.5 ? Math.min(0.5, Math.round((settings.jitter + 0.1) * 10) / 10) : null),
    });
  return moves;
}

export interface RecommendOptions extends EstimateOptions {
  budgetPps: number;
  model: ModelName;
}

export function recommendSettings(options: RecommendOptions): Recommendation {
  const model = FLEET_MODELS[options.model];
  let farthest = 0;
  for (const profile of options.profiles) for (const relay of profile.relays) farthest = Math.max(farthest, relay.hops);
  const neededTtl = Math.min(255, farthest + 2);
  const judge = (settings: Settings): ModelEstimate => estimateModel({ ...options, settings }, model);
  let settings = options.settings;
  let current = judge(settings);
  const before = current.worst;
  const moves = movesFor(options.model, neededTtl);
  for (let step = 0; step < 24 && current.worst.echoRequestsPerSecond > options.budgetPps; step += 1) {
    let best: { settings: Settings; estimate: ModelEstimate } | undefined;
    for (const move of moves) {
      const value = move.next(settings);
      if (value === null) continue;
      const candidate = { ...settings, [move.setting]: value };
      const estimate = judge(candidate);
      if (best === undefined || estimate.worst.echoRequestsPerSecond < best.estimate.worst.echoRequestsPerSecond)
        best = { settings: candidate, estimate };
    }
    // A change that buys less than 1 % is not worth recommending.
    if (best === undefined || best.estimate.worst.echoRequestsPerSecond > current.worst.echoRequestsPerSecond * 0.99)
      break;
    settings = best.settings;
    current = best.estimate;
  }
  const met = current.worst.echoRequestsPerSecond <= options.budgetPps;
  const tuned: Array<Move['setting'] | 'probe.ratePps'> = [
    'intervalSeconds',
    'resistFailureIntervalSeconds',
    'minRetryIntervalSeconds',
    'maxRetryIntervalSeconds',
    'maximumTtlToPing',
    'jitter',
    'probe.ratePps',
  ];
  const valueOf = (from: Settings, setting: (typeof tuned)[number]): number =>
    setting === 'probe.ratePps' ? from.probe.ratePps : from[setting];
  return {
    model: options.model,
    budgetPps: options.budgetPps,
    met,
    before: { scenario: before.scenario, echoRequestsPerSecond: before.echoRequestsPerSecond },
    after: { scenario: current.worst.scenario, echoRequestsPerSecond: current.worst.echoRequestsPerSecond },
    settings: tuned
      .filter((setting) => !(setting === 'jitter' && options.model === 'bigfix'))
      .map((setting) => ({
        setting,
        value: valueOf(settings, setting),
        was: valueOf(options.settings, setting),
        clientSetting: CLIENT_SETTING_NAMES.find((entry) => entry.setting === setting)?.name ?? null,
      })),
    note: met ? null : explainShortfall(options.model, current),
  };
}

function explainShortfall(model: ModelName, estimate: ModelEstimate): string {
  const perSelection = Math.round(estimate.perSelection.echoRequests);
  if (model === 'bigfix') {
    return `the classic client's worst minute (${estimate.worst.scenario}) is the whole fleet probing in step (${perSelection} echo requests each, retries without jitter): no timing setting spreads it. Fewer relays per probe (affiliation groups and a seek list) or relay-select's behaviour do.`;
  }
  return `each selection costs about ${perSelection} echo requests: with the settings at their gentlest the worst minute (${estimate.worst.scenario}) stays above the budget. Fewer relays per pool (affiliation groups and a seek list) lower the cost of each selection.`;
}
