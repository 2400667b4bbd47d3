import { RelaySelectError } from '../errors.js';

/**
 * The CLI's commands and options, described once. `main.ts` builds yargs from this, `man-page.ts`
 * renders man/relay-select.1 from it, and each command's options type derives from it
 * (`CommandOptions<'run'>`), so --help, the man page and the code cannot drift apart.
 */
export interface OptionSpec {
  readonly name: string;
  readonly alias?: string;
  readonly type: 'boolean' | 'string' | 'number' | 'array';
  readonly description: string;
  /** Shown as the option's argument in help and the man page. */
  readonly argument?: string;
  readonly choices?: readonly string[];
  readonly default?: boolean | string | number;
}

interface PositionalSpec {
  /** The name the command module receives, e.g. `hosts`. */
  readonly name: string;
  /** The usage line as people read it, e.g. `HOST...`. */
  readonly usage: string;
  /** Any number of values (an array), or at most one. */
  readonly variadic: boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly positional?: PositionalSpec;
  readonly summary: string;
  /** Paragraphs for the man page and `help COMMAND`. */
  readonly description: string;
  readonly options: readonly OptionSpec[];
  readonly examples: readonly { readonly command: string; readonly explanation: string }[];
  /**
   * The signal that is this command's normal way to end (a service's SIGTERM): when the command returns
   * cleanly after it, its own exit status stands instead of the signal's (143).
   */
  readonly stopSignal?: 'SIGTERM';
}

export const GLOBAL_OPTIONS = [
  {
    name: 'json',
    type: 'boolean',
    description: 'Print one JSON object on stdout for scripts; no colour, no progress.',
  },
  {
    name: 'config',
    alias: 'c',
    type: 'string',
    argument: 'FILE',
    description:
      'Read settings from FILE instead of searching (.relay-selectrc*, relay-select.config.*, package.json from the working directory upward, then /etc/relay-select/config.json; as root, /etc/relay-select/config.json only).',
  },
  {
    name: 'client-settings',
    type: 'string',
    argument: 'FILE',
    description:
      "Import the settings a BigFix client already has: clientsettings.cfg (name=value lines) or besclient.config (INI sections, detected by its first line); it overrides the settings file. The vendor's other settings are passed over quietly (counted with --verbose); a misspelt relay-selection name warns.",
  },
  { name: 'relays', alias: 'r', type: 'string', argument: 'FILE', description: 'The relay list (setting relayList).' },
  {
    name: 'state-dir',
    type: 'string',
    argument: 'DIR',
    description: 'Where state, lock, client id and the cached relay list live (setting stateDir).',
  },
  {
    name: 'seek-list',
    type: 'string',
    argument: 'LIST',
    description: 'Affiliation groups to try in order, e.g. "Branch-Lyon;DMZ;*" (setting seekList).',
  },
  {
    name: 'strategy',
    type: 'string',
    argument: 'NAME',
    choices: ['inference', 'rounds'],
    description: 'Probe strategy (setting probe.strategy).',
  },
  {
    name: 'profile',
    type: 'string',
    argument: 'NAME',
    choices: ['default', 'large'],
    description: 'Settings profile; "large" seeds values for fleets over 10,000 clients or 50 relays.',
  },
  {
    name: 'set',
    type: 'array',
    argument: 'KEY=VALUE',
    description: 'Set any setting by its path, e.g. --set probe.timeoutMs=500 (repeatable).',
  },
  {
    name: 'quiet',
    alias: 'q',
    type: 'boolean',
    description:
      'Print nothing on success (for cron); a failed run still prints its one line, and warnings still go to stderr.',
  },
  {
    name: 'verbose',
    alias: 'v',
    type: 'boolean',
    description: 'Explain each step on stderr, including where settings were looked for and why there.',
  },
  {
    name: 'log-format',
    type: 'string',
    argument: 'FORMAT',
    choices: ['text', 'json'],
    description:
      'How log lines are written. json: one JSON object per line ({"time", "level", "msg", ...}), as journald and log shippers take them: the decision of run on stdout with its fields (action, rule, reason, relay, distance, pool, nextDueAt, ...), warnings and errors on stderr. Data output (--json, status, plan) is unchanged.',
  },
] as const satisfies readonly OptionSpec[];

const FLEET_OPTIONS = [
  {
    name: 'clients',
    type: 'number',
    argument: 'N',
    description: 'Endpoints in the fleet (default 2000; not with --topology).',
  },
  {
    name: 'subnets',
    type: 'number',
    argument: 'N',
    description: 'Subnets they sit in, four to a site behind its access router (default clients / 50).',
  },
  {
    name: 'relay-count',
    type: 'number',
    argument: 'N',
    description: 'Relays to generate when no --relays list is given (default clients / 100, at least 2).',
  },
  {
    name: 'topology',
    type: 'string',
    argument: 'FILE',
    description:
      'A fleet topology description (JSON: routers, subnets with clients, relays behind routers) instead of a generated network; see FLEET TOPOLOGY.',
  },
  {
    name: 'seed',
    type: 'number',
    argument: 'N',
    description:
      'Seed of everything random: the generated network, client ids, cron sleeps, back-off jitter (default 1). The same seed gives the same run.',
  },
  {
    name: 'model',
    type: 'array',
    argument: 'NAME',
    choices: ['default', 'bigfix', 'agent'],
    description:
      'Endpoint behaviours to compare (default: default and bigfix): default is relay-select; bigfix the classic client as the vendor documents it (TTL ladder, a 503 counts as a failure, retries double without jitter); agent is relay-select agents with subnet cooperation (one endpoint per subnet measures, at most once per table validity of 5 × peer.leaseSeconds, and shares its table; the others confirm with one echo).',
  },
  {
    name: 'days',
    type: 'number',
    argument: 'D',
    description: 'How long the steady scenario runs (default 7); the others run until the fleet has settled again.',
  },
  {
    name: 'outage-hours',
    type: 'number',
    argument: 'H',
    description: 'How long the central server is down in the server-outage scenario (default 24).',
  },
  {
    name: 'time-exceeded-burst',
    type: 'number',
    argument: 'N',
    description: "Routers' Time Exceeded burst per source (default 6, Linux's).",
  },
  {
    name: 'time-exceeded-rate',
    type: 'number',
    argument: 'R',
    description: "Routers' Time Exceeded per second per source after the burst (default 1, Linux's).",
  },
] as const satisfies readonly OptionSpec[];

export const COMMANDS = [
  {
    name: 'run',
    summary: 'one cron cycle: select, keep, wait or fail over, then register',
    description:
      'Reads the state, decides from it, the settings and the time whether to select a relay, keep the current one, or wait for a pending retry, and acts on the decision. Safe to call every few minutes: probing happens only when a selection is due. Two runs never overlap (a lock in the state directory).',
    options: [
      { name: 'force', type: 'boolean', description: 'Select now, whatever the schedule says.' },
      { name: 'dry-run', type: 'boolean', description: 'Probe and rank, but do not register or write state.' },
    ],
    examples: [
      { command: 'relay-select run --quiet', explanation: 'What cron runs: prints nothing unless something fails.' },
      { command: 'relay-select run --force --verbose', explanation: 'Select now and explain each step.' },
    ],
  },
  {
    name: 'plan',
    summary: 'show the pools, relays, failover order and probe budget (no network unless --probe)',
    description:
      "Shows what a selection would do: the pools in seek-list order with each relay's priority, weight and address, the failover relays and root server after them, and the packet budget of each probe strategy. With --probe it also measures distances and shows the ranking and the relay that would be chosen, without registering.",
    options: [
      {
        name: 'probe',
        type: 'boolean',
        description: 'Measure distances and show the ranking and the pick (needs ICMP sockets: see probe).',
      },
    ],
    examples: [
      {
        command:
          'relay-select plan --relays relay-samples/branch-office.dat --config relay-samples/.relay-selectrc.json',
        explanation: 'Show the plan for the bundled sample.',
      },
      {
        command: 'relay-select plan --relays relay-samples/large-1000.dat --json',
        explanation: 'The same for scripts.',
      },
    ],
  },
  {
    name: 'probe',
    positional: { name: 'hosts', usage: 'HOST...', variadic: true },
    summary: 'measure hop distance and RTT to hosts',
    description:
      "Measures the hop distance (routers between this endpoint and the host) and the round-trip time of each HOST, or of every relay of --relays, with the configured strategy, and says how each was measured: echo-ttl (inferred from the reply TTL and verified), ladder (TTL-limited rounds), tcp (ICMP silent, TCP port open: distance unknown) or unreachable. It probes through unprivileged ICMP ping sockets where the sysctl net.ipv4.ping_group_range admits the process's group, else through raw sockets, which need root or CAP_NET_RAW (setting probe.transport); --json reports which kind and privilege were used.",
    options: [
      {
        name: 'port',
        alias: 'p',
        type: 'number',
        argument: 'PORT',
        description: 'TCP port for the fallback check of HOST arguments (default 52311).',
      },
    ],
    examples: [
      { command: 'relay-select probe 198.18.1.2 relay-hq.corp.example', explanation: 'Distance to two hosts.' },
      {
        command: 'relay-select probe --relays /etc/relay-select/Relay.dat --strategy rounds --json',
        explanation: 'Every relay, with the classic ladder, as JSON.',
      },
      {
        command: 'relay-select probe 2001:db8::20 --set probe.transport=ping',
        explanation: 'Only through ping sockets, without any capability.',
      },
    ],
  },
  {
    name: 'status',
    summary: 'show the current relay, last selection, next due time and failure clock',
    description:
      'Reads the state file and prints the current relay with its distance and pool, when it was selected, when the next selection is due, whether the failure clock runs, and any pending retry. No network.',
    options: [],
    examples: [{ command: 'relay-select status --json', explanation: 'For monitoring scripts.' }],
  },
  {
    name: 'report-failure',
    summary: "start the failure clock for the current relay (for the endpoint's own agent)",
    description:
      "Tells relay-select that the current relay failed. The next run keeps the relay until it has failed for resistFailureIntervalSeconds, then selects another. Exits 69 when there is no current relay to report, and 75 while a run or `relay-select agent` holds the run lock (try again after it, or let the agent's own health check notice).",
    options: [{ name: 'reason', type: 'string', argument: 'TEXT', description: 'Why, recorded in the state.' }],
    examples: [
      { command: 'relay-select report-failure --reason "upload failed"', explanation: 'Start the failure clock.' },
    ],
  },
  {
    name: 'agent',
    summary:
      'run the cycle of run in one long-running process (systemd service), cooperating with the agents of the same link',
    description:
      'Runs the cycle of run (the same decision, state directory and lock) on its own schedule: at start, whenever a selection or retry falls due, and at least every --check-interval seconds to check the current relay. It holds the run lock for its whole life, so a cron "run" meanwhile exits 75 while "status" still works. SIGHUP reloads the settings and the relay list; a changed network (a default route, or the source address toward the current relay, as run compares them) wakes a cycle within a few seconds, which selects again (rule network-changed); metricsFile is written after every cycle; SIGTERM stops it cleanly (exit 0; SIGINT exits 130). With peer.enabled (relay-select.conf(5)), the agents of one link that share a relay list and seek list elect a leader by link-local multicast (TTL 1, every message authenticated with HMAC-SHA256 under peer.keyFile): the leader probes and shares its measurements, the others adopt them and confirm their choice with one echo at the maximum TTL, and probe for themselves when no table comes within one lease. One line per event on stdout (with --json one JSON object per line), errors on stderr.',
    stopSignal: 'SIGTERM',
    options: [
      {
        name: 'check-interval',
        type: 'number',
        argument: 'SECONDS',
        default: 300,
        description: 'Longest time between two cycles, each of which checks the current relay (1..86400).',
      },
    ],
    examples: [
      { command: 'relay-select agent', explanation: 'What relay-select-agent.service runs.' },
      {
        command: 'relay-select agent --json --set peer.enabled=true --set peer.keyFile=/etc/relay-select/peer.key',
        explanation: 'Cooperate with the peers of the link; one JSON object per event.',
      },
    ],
  },
  {
    name: 'lab',
    positional: { name: 'topology', usage: '[TOPOLOGY | down]', variadic: false },
    summary: 'build a real network of namespaces, run a full selection in it, show the result, tear it down',
    description:
      'Builds the topology (a file, or the name of a bundled one: branch-office, internet-dmz, server-outage, relay-full) from Linux network namespaces, starts a stub relay in each relay namespace, runs the real "relay-select run --force" inside the endpoint namespace, prints the probe results, the chosen relay and why, and the registration, then removes every namespace it made, also on Ctrl-C and on errors. Needs Linux, root and iproute2. "lab down --prefix PREFIX" removes what a --keep run left (it prints that command); "lab down" alone removes every lab recorded on the machine, other people\'s included.',
    options: [
      {
        name: 'keep',
        type: 'boolean',
        description: 'Leave the lab up and print how to enter the endpoint namespace and how to remove it.',
      },
      {
        name: 'compare',
        type: 'boolean',
        description: 'Run every probe strategy on the same lab and compare packets, wall time and the chosen relay.',
      },
      {
        name: 'prefix',
        type: 'string',
        argument: 'PREFIX',
        description:
          'The namespace prefix of the lab: rslab_ and 1 to 10 lowercase letters or digits (default rslab_ and a random suffix). With "down": remove only the lab with this prefix.',
      },
    ],
    examples: [
      { command: 'sudo relay-select lab', explanation: 'The branch-office lab.' },
      {
        command: 'sudo relay-select lab internet-dmz --compare',
        explanation: 'Compare strategies where relays drop ICMP.',
      },
    ],
  },
  {
    name: 'simulate',
    summary: 'simulate a fleet of endpoints running relay-select from cron, and what it does to the network',
    description:
      'Simulates a whole fleet on simulated time, deterministic for a --seed: every endpoint runs from cron every 5 minutes after a random sleep of up to a minute, makes the real decision of "relay-select run", and selects with the real ranking and the real probe strategies over a simulated network of routers that rate-limit Time Exceeded as Linux does. A probe is measured once per subnet and network state and counted for every endpoint that makes it. The models default (relay-select) and bigfix (the classic client) live the same fleet and the same events side by side; --model agent adds relay-select agents that cooperate per subnet. Prints, per model, echo requests and Time Exceeded per second (mean and worst minute), selections, clients per relay and how long the fleet took to settle again; --svg draws it. The relay list is --relays FILE when given, else --relay-count generated relays; the settings are the ones loaded as for every command (--config, --profile, --set).',
    options: [
      {
        name: 'scenario',
        type: 'string',
        argument: 'NAME',
        choices: ['steady', 'server-outage', 'relay-loss', 'flap', 'new-relay'],
        description:
          'What happens (default steady): steady is normal life for --days; server-outage the central server down for --outage-hours (relays answer 503); relay-loss the busiest relay dies; flap every endpoint loses its network for 10 minutes; new-relay a relay is added.',
      },
      ...FLEET_OPTIONS,
      {
        name: 'svg',
        type: 'string',
        argument: 'FILE',
        description:
          'Also draw the run as an SVG picture: echo requests/s and Time Exceeded/s over time per model with the events marked, and clients per relay against their weight.',
      },
    ],
    examples: [
      {
        command:
          'relay-select simulate --clients 20000 --subnets 400 --relay-count 200 --scenario server-outage --svg outage.svg',
        explanation: 'What a 24-hour server outage does to a 20,000-endpoint fleet, with a picture.',
      },
      {
        command: 'relay-select simulate --relays /etc/relay-select/Relay.dat --clients 5000 --profile large --json',
        explanation: 'Your relay list and the large-fleet profile, as JSON.',
      },
    ],
  },
  {
    name: 'estimate',
    summary: 'closed-form fleet-wide ICMP load per model, in steady state and at the worst minute of each scenario',
    description:
      'Computes, without simulating endpoints, the echo requests and Time Exceeded per second a fleet sends: in steady state and at the worst minute of each scenario, for each model, from the settings, the relay list and a distance profile: the generated network of --clients/--subnets (as simulate builds it), a --topology, one endpoint\'s measurements (--from, the JSON of "probe --json" or "plan --probe --json"), or just --nearest-hops. It agrees with simulate within 10 %. With --recommend --budget-pps X it searches for the settings (re-selection interval, resist-failure, retry bounds, TTL cap, retry jitter) that keep the worst minute under X, and prints them, with probe.ratePps as it stands, and their clientsettings.cfg names.',
    options: [
      {
        name: 'scenario',
        type: 'array',
        argument: 'NAME',
        choices: ['steady', 'server-outage', 'relay-loss', 'flap', 'new-relay'],
        description: 'Scenarios to estimate (default all).',
      },
      ...FLEET_OPTIONS,
      {
        name: 'nearest-hops',
        type: 'number',
        argument: 'H',
        description:
          'The distance profile is only this: the nearest relay is H routers away, the others beyond the verification margin.',
      },
      {
        name: 'from',
        type: 'string',
        argument: 'FILE',
        description:
          'The distance profile is one representative endpoint\'s: the JSON output of "relay-select probe --json" or "plan --probe --json" there.',
      },
      {
        name: 'recommend',
        type: 'boolean',
        description: 'Search for settings that keep the worst minute under --budget-pps, per model.',
      },
      {
        name: 'budget-pps',
        type: 'number',
        argument: 'X',
        description: 'Echo requests per second the whole fleet may send at its worst minute (with --recommend).',
      },
    ],
    examples: [
      {
        command: 'relay-select estimate --clients 20000 --subnets 400 --relay-count 200',
        explanation: 'Steady and worst-minute ICMP load of a generated 20,000-endpoint fleet, both models.',
      },
      {
        command: 'relay-select estimate --clients 20000 --subnets 400 --relay-count 200 --model default --model agent',
        explanation:
          'What subnet cooperation saves: on this fleet agent sends about 0.6× the echo requests of default in steady state and 0.2× at the worst minute after a server outage.',
      },
      {
        command:
          'relay-select probe --relays Relay.dat --json > here.json; relay-select estimate --from here.json --relays Relay.dat --clients 50000 --recommend --budget-pps 20000',
        explanation:
          "From one endpoint's measurements, settings that keep 50,000 endpoints under 20,000 echo requests per second.",
      },
    ],
  },
  {
    name: 'doctor',
    summary:
      'check this endpoint: Node and its code cache, ICMP addon and permission, settings trust, state directory, relay list, current relay, clock',
    description:
      'Runs the checks below and prints one line for each, marked passed or failed, with the fix for a failed one: the Node version is supported; this build has a V8 code cache for it (without one every run compiles the CLI: correct, slower to start; npm rebuild relay-select writes it); the ICMP addon loads; which ICMP sockets a probe would open and why (ping sockets allowed by net.ipv4.ping_group_range, or raw sockets with CAP_NET_RAW); the settings sources and whether their files are trusted (owned by root or this user, not writable by others, up to /); the state directory is trusted, writable and has free space; the relay list is there, trusted, parses, and how old it is; the current relay accepts one TCP connection; the clock agrees with the times in the state. Reads only: it creates, moves and writes nothing. Exit status 0 when every check passes, 1 when one fails (a status of doctor alone, not in the table below); --json prints {"ok", "checks": [{"name", "ok", "summary", "fix"}]}.',
    options: [],
    examples: [
      {
        command: 'sudo relay-select doctor',
        explanation: 'Check the endpoint as the cron job or the service runs it.',
      },
      {
        command: 'relay-select doctor --json',
        explanation: 'For fleet tooling: one object, "ok" false when a check fails.',
      },
    ],
  },
] as const satisfies readonly CommandSpec[];

export type CommandName = (typeof COMMANDS)[number]['name'];
type SpecOf<Name extends CommandName> = Extract<(typeof COMMANDS)[number], { name: Name }>;

/** `dry-run` → `dryRun`, as yargs hands options to the command. */
type CamelCase<Text extends string> = Text extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : Text;

type OptionValue<Option extends OptionSpec> = Option['type'] extends 'boolean'
  ? boolean
  : Option['type'] extends 'number'
    ? number
    : Option['type'] extends 'array'
      ? Option extends { choices: readonly (infer Choice)[] }
        ? Choice[]
        : string[]
      : Option extends { choices: readonly (infer Choice)[] }
        ? Choice
        : string;

/** The options of `specs` as a command module receives them: camelCase names, every one optional. */
type OptionsOf<Specs extends readonly OptionSpec[]> = {
  [Option in Specs[number] as CamelCase<Option['name']>]?: OptionValue<Option>;
};

type PositionalOf<Spec extends CommandSpec> = Spec extends { positional: infer Positional extends PositionalSpec }
  ? { [Name in Positional['name']]?: Positional['variadic'] extends true ? string[] : string }
  : unknown;

/** The options every command accepts (GLOBAL_OPTIONS). */
export type GlobalOptions = OptionsOf<typeof GLOBAL_OPTIONS>;

/** The options `simulate` and `estimate` share (FLEET_OPTIONS), with the global ones. */
export type FleetOptions = GlobalOptions & OptionsOf<typeof FLEET_OPTIONS>;

/** What command `Name` receives: the global options, its own options and its positional argument. */
export type CommandOptions<Name extends CommandName> = GlobalOptions &
  OptionsOf<SpecOf<Name>['options']> &
  PositionalOf<SpecOf<Name>>;

/** `dry-run` → `dryRun`: an option's key in what yargs (and quick-parse.ts) hand over. */
export const camelCase = (name: string): string =>
  name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());

function readOptionValue(option: OptionSpec, value: unknown): unknown {
  // yargs turns `--port abc` into NaN, and a repeated option into a list.
  if (option.type === 'number' && (typeof value !== 'number' || Number.isNaN(value))) {
    throw new RelaySelectError(
      'USAGE',
      `--${option.name}: expected a number${option.argument === undefined ? '' : ` (${option.argument})`}${Array.isArray(value) ? ', given once' : ''}`,
    );
  }
  const ok =
    option.type === 'array'
      ? Array.isArray(value) &&
        value.every(
          (item) => typeof item === 'string' && (option.choices === undefined || option.choices.includes(item)),
        )
      : typeof value === option.type && (option.choices === undefined || option.choices.includes(String(value)));
  if (!ok) {
    const given = Array.isArray(value) ? ' once' : '';
    throw new RelaySelectError(
      'USAGE',
      `--${option.name}: expected ${option.type === 'boolean' ? 'no value' : `a ${option.type}`}${given}${option.choices === undefined ? '' : ` (${option.choices.join(', ')})`}`,
    );
  }
  return value;
}

/**
 * The options of command `name` out of what yargs parsed, each checked against its spec, so the
 * object is the `CommandOptions<name>` the command's `run` declares.
 */
export function readCommandOptions<Name extends CommandName>(
  name: Name,
  parsed: Readonly<Record<string, unknown>>,
): CommandOptions<Name> {
  const spec: CommandSpec = COMMANDS.find((command) => command.name === name)!;
  const options: Record<string, unknown> = {};
  for (const option of [...GLOBAL_OPTIONS, ...spec.options]) {
    const key = camelCase(option.name);
    if (parsed[key] !== undefined) options[key] = readOptionValue(option, parsed[key]);
  }
  const positional = spec.positional;
  if (positional !== undefined && parsed[positional.name] !== undefined) {
    options[positional.name] = readOptionValue(
      { name: positional.name, type: positional.variadic ? 'array' : 'string', description: '' },
      parsed[positional.name],
    );
  }
  return options as CommandOptions<Name>;
}
