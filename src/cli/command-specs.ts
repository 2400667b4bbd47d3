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
}

export const GLOBAL_OPTIONS = [
  { name: 'json', type: 'boolean', description: 'Print one JSON object on stdout for scripts; no colour, no progress.' },
  { name: 'config', alias: 'c', type: 'string', argument: 'FILE', description: 'Read settings from FILE instead of searching (.relay-selectrc*, relay-select.config.*, package.json, /etc/relay-select/config.json).' },
  { name: 'client-settings', type: 'string', argument: 'FILE', description: 'Import a BigFix-style clientsettings.cfg (name=value lines); it overrides the settings file.' },
  { name: 'relays', alias: 'r', type: 'string', argument: 'FILE', description: 'The relay list (setting relayList).' },
  { name: 'state-dir', type: 'string', argument: 'DIR', description: 'Where state, lock, client id and the cached relay list live (setting stateDir).' },
  { name: 'seek-list', type: 'string', argument: 'LIST', description: 'Affiliation groups to try in order, e.g. "Branch-Lyon;DMZ;*" (setting seekList).' },
  { name: 'strategy', type: 'string', argument: 'NAME', choices: ['inference', 'rounds'], description: 'Probe strategy (setting probe.strategy).' },
  { name: 'profile', type: 'string', argument: 'NAME', choices: ['default', 'large'], description: 'Settings profile; "large" seeds values for fleets over 10,000 clients or 50 relays.' },
  { name: 'set', type: 'array', argument: 'KEY=VALUE', description: 'Set any setting by its path, e.g. --set probe.timeoutMs=500 (repeatable).' },
  { name: 'quiet', alias: 'q', type: 'boolean', description: 'Print nothing on success (for cron); a failed run still prints its one line, and warnings still go to stderr.' },
  { name: 'verbose', alias: 'v', type: 'boolean', description: 'Explain each step on stderr.' },
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
      'Shows what a selection would do: the pools in seek-list order with each relay\'s priority, weight and address, the failover relays and root server after them, and the packet budget of each probe strategy. With --probe it also measures distances and shows the ranking and the relay that would be chosen, without registering.',
    options: [{ name: 'probe', type: 'boolean', description: 'Measure distances and show the ranking and the pick (needs ICMP sockets: see probe).' }],
    examples: [
      { command: 'relay-select plan --relays relay-samples/branch-office.dat --config relay-samples/.relay-selectrc.json', explanation: 'Show the plan for the bundled sample.' },
      { command: 'relay-select plan --relays relay-samples/large-1000.dat --json', explanation: 'The same for scripts.' },
    ],
  },
  {
    name: 'probe',
    positional: { name: 'hosts', usage: 'HOST...', variadic: true },
    summary: 'measure hop distance and RTT to hosts',
    description:
      'Measures the hop distance (routers between this endpoint and the host) and the round-trip time of each HOST, or of every relay of --relays, with the configured strategy, and says how each was measured: echo-ttl (inferred from the reply TTL and verified), ladder (TTL-limited rounds), tcp (ICMP silent, TCP port open: distance unknown) or unreachable. It probes through unprivileged ICMP ping sockets where the sysctl net.ipv4.ping_group_range admits the process\'s group, else through raw sockets, which need root or CAP_NET_RAW (setting probe.transport); --json reports which kind and privilege were used.',
    options: [{ name: 'port', alias: 'p', type: 'number', argument: 'PORT', description: 'TCP port for the fallback check of HOST arguments (default 52311).' }],
    examples: [
      { command: 'relay-select probe 198.18.1.2 relay-hq.corp.example', explanation: 'Distance to two hosts.' },
      { command: 'relay-select probe --relays /etc/relay-select/Relay.dat --strategy rounds --json', explanation: 'Every relay, with the classic ladder, as JSON.' },
      { command: 'relay-select probe 2001:db8::20 --set probe.transport=ping', explanation: 'Only through ping sockets, without any capability.' },
    ],
  },
  {
    name: 'status',
    summary: 'show the current relay, last selection, next due time and failure clock',
    description: 'Reads the state file and prints the current relay with its distance and pool, when it was selected, when the next selection is due, whether the failure clock runs, and any pending retry. No network.',
    options: [],
    examples: [{ command: 'relay-select status --json', explanation: 'For monitoring scripts.' }],
  },
  {
    name: 'report-failure',
    summary: "start the failure clock for the current relay (for the endpoint's own agent)",
    description: 'Tells relay-select that the current relay failed. The next run keeps the relay until it has failed for resistFailureIntervalSeconds, then selects another.',
    options: [{ name: 'reason', type: 'string', argument: 'TEXT', description: 'Why, recorded in the state.' }],
    examples: [{ command: 'relay-select report-failure --reason "upload failed"', explanation: 'Start the failure clock.' }],
  },
  {
    name: 'agent',
    summary: 'run the cycle of run in one long-running process (systemd service), cooperating with the agents of the same link',
    description:
      'Runs the cycle of run (the same decision, state directory and lock) on its own schedule: at start, whenever a selection or retry falls due, and at least every --check-interval seconds to check the current relay. It holds the run lock for its whole life, so a cron "run" meanwhile exits 75 while "status" still works. SIGHUP reloads the settings and the relay list, a changed network (default route) starts a selection within a few seconds, and SIGTERM stops it cleanly (exit 0). With peer.enabled (relay-select.conf(5)), the agents of one link that share a relay list and seek list elect a leader by link-local multicast (TTL 1, every message authenticated with HMAC-SHA256 under peer.keyFile): the leader probes and shares its measurements, the others adopt them and confirm their choice with one echo at the maximum TTL, and probe for themselves when no table comes within one lease. One line per event on stdout (with --json one JSON object per line), errors on stderr.',
    options: [{ name: 'check-interval', type: 'number', argument: 'SECONDS', default: 300, description: 'Longest time between two cycles, each of which checks the current relay (1..86400).' }],
    examples: [
      { command: 'relay-select agent', explanation: 'What relay-select-agent.service runs.' },
      { command: 'relay-select agent --json --set peer.enabled=true --set peer.keyFile=/etc/relay-select/peer.key', explanation: 'Cooperate with the peers of the link; one JSON object per event.' },
    ],
  },
  {
    name: 'lab',
    positional: { name: 'topology', usage: '[TOPOLOGY | down]', variadic: false },
    summary: 'build a real network of namespaces, run a full selection in it, show the result, tear it down',
    description:
      'Builds the topology (a file, or the name of a bundled one: branch-office, internet-dmz, server-outage) from Linux network namespaces, starts a stub relay in each relay namespace, runs the real "relay-select run --force" inside the endpoint namespace, prints the probe results, the chosen relay and why, and the registration, then removes every namespace it made, also on Ctrl-C and on errors. Needs Linux, root and iproute2. "lab down" removes what a --keep run left.',
    options: [
      { name: 'keep', type: 'boolean', description: 'Leave the lab up and print how to enter the endpoint namespace and how to remove it.' },
      { name: 'compare', type: 'boolean', description: 'Run every probe strategy on the same lab and compare packets, wall time and the chosen relay.' },
    ],
    examples: [
      { command: 'sudo relay-select lab', explanation: 'The branch-office lab.' },
      { command: 'sudo relay-select lab internet-dmz --compare', explanation: 'Compare strategies where relays drop ICMP.' },
    ],
  },
] as const satisfies readonly CommandSpec[];

export type CommandName = (typeof COMMANDS)[number]['name'];
type SpecOf<Name extends CommandName> = Extract<(typeof COMMANDS)[number], { name: Name }>;

/** `dry-run` → `dryRun`, as yargs hands options to the command. */
type CamelCase<Text extends string> = Text extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : Text;

type OptionValue<Option extends OptionSpec> = Option['type'] extends 'boolean'
  ? boolean
  : Option['type'] extends 'number'
    ? number
    : Option['type'] extends 'array'
      ? string[]
      : Option extends { choices: readonly (infer Choice)[] }
        ? Choice
        : string;

/** The options of `specs` as a command module receives them: camelCase names, every one optional. */
type OptionsOf<Specs extends readonly OptionSpec[]> = { [Option in Specs[number] as CamelCase<Option['name']>]?: OptionValue<Option> };

type PositionalOf<Spec extends CommandSpec> = Spec extends { positional: infer Positional extends PositionalSpec }
  ? { [Name in Positional['name']]?: Positional['variadic'] extends true ? string[] : string }
  : unknown;

/** The options every command accepts (GLOBAL_OPTIONS). */
export type GlobalOptions = OptionsOf<typeof GLOBAL_OPTIONS>;

/** What command `Name` receives: the global options, its own options and its positional argument. */
export type CommandOptions<Name extends CommandName> = GlobalOptions & OptionsOf<SpecOf<Name>['options']> & PositionalOf<SpecOf<Name>>;

const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());

function readOptionValue(option: OptionSpec, value: unknown): unknown {
  const ok =
    option.type === 'array'
      ? Array.isArray(value) && value.every((item) => typeof item === 'string')
      : typeof value === option.type && (option.choices === undefined || option.choices.includes(String(value)));
  if (!ok) throw new Error(`--${option.name}: yargs gave ${JSON.stringify(value)}, not a ${option.type}`);
  return value;
}

/**
 * The options of command `name` out of what yargs parsed, each checked against its spec, so the
 * object is the `CommandOptions<name>` the command's `run` declares.
 */
export function readCommandOptions<Name extends CommandName>(name: Name, parsed: Readonly<Record<string, unknown>>): CommandOptions<Name> {
  const spec: CommandSpec = COMMANDS.find((command) => command.name === name)!;
  const options: Record<string, unknown> = {};
  for (const option of [...GLOBAL_OPTIONS, ...spec.options]) {
    const key = camelCase(option.name);
    if (parsed[key] !== undefined) options[key] = readOptionValue(option, parsed[key]);
  }
  const positional = spec.positional;
  if (positional !== undefined && parsed[positional.name] !== undefined) {
    options[positional.name] = readOptionValue({ name: positional.name, type: positional.variadic ? 'array' : 'string', description: '' }, parsed[positional.name]);
  }
  return options as CommandOptions<Name>;
}
