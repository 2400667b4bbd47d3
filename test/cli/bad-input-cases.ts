/**
 * The bad-input corpus: every kind of bad input relay-select has met, as one table the test
 * (bad-input.test.ts) runs through the real CLI. Each case names its input — arguments, environment,
 * files — the exit status it must end with and a fragment of what it must say. None may exit 70, print
 * a stack trace, or take 2 s; a case that interrupts a run must end within a second of the signal.
 *
 * Placeholders, in arguments, environment values and file contents: `{dir}` the case's own directory
 * (the working directory of the run), `{port}` a loopback HTTP server that accepts and never answers
 * (for the `server` cases), `{closed}` a loopback port nothing listens on, `{now}` and `{soon}` (now + 90 s)
 * as ISO-8601.
 */

/** A file the case puts in its directory before the run. */
export type CaseFile = string | Buffer | { fifo: true } | { socket: true } | { json: unknown };

export interface BadInputCase {
  /** What goes wrong, as the test names the case. */
  name: string;
  /** The class of bad input. */
  kind:
    | 'earlier'
    | 'usage'
    | 'prototype path'
    | 'yaml'
    | 'nesting'
    | 'code config'
    | 'not a regular file'
    | 'import'
    | 'future time'
    | 'read-only'
    | 'signal'
    | 'output';
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  files?: Readonly<Record<string, CaseFile>>;
  /**
   * `private` (default): in a network namespace of its own, loopback up, nothing else — no packet can
   * leave even if the case goes wrong. `loopback`: the host's loopback, where the test's server listens.
   */
  network?: 'private' | 'loopback';
  /** Send this signal when the server has received a request, or when the hook has connected to it. */
  signal?: 'SIGINT' | 'SIGTERM';
  /** Close the read end of stdout after the first chunk (`| head -1`). */
  closeStdoutEarly?: true;
  expect: {
    code: number;
    stderr?: RegExp;
    stdout?: RegExp;
    notStdout?: RegExp;
    notStderr?: RegExp;
    /** Files (relative to the case directory) whose bytes must not change. */
    unchanged?: readonly string[];
    /** A directory whose listing must not change (nothing created, renamed or removed). */
    sameListing?: string;
    /** Paths that must not exist after the run. */
    absent?: readonly string[];
    /** A file's content after the run. */
    fileMatches?: Readonly<Record<string, RegExp>>;
  };
}

import { REPO_ROOT } from '../helpers/cli.js';

const FAR_FUTURE = '2099-01-01T00:00:00.000Z';

/** A state file (version 1) with `fields` over an endpoint that has never selected. */
function state(fields: Record<string, unknown> = {}): { json: unknown } {
  return {
    json: {
      version: 1,
      clientId: 'corpus-client',
      current: null,
      lastSelectionAt: null,
      lastAttemptAt: null,
      failingSince: null,
      retry: null,
      ...fields,
    },
  };
}

/** A current relay at the loopback server, registered `{now}`. */
const currentAtServer = {
  current: {
    host: '127.0.0.1',
    port: '{port}',
    address: '127.0.0.1',
    distance: 0,
    rttMs: 0.1,
    pool: '*',
    method: 'echo-ttl',
    registeredAt: '{now}',
  },
  lastSelectionAt: '{now}',
  lastAttemptAt: '{now}',
};

/** An alias bomb: each level references the one below nine times, so `levels` expand to 9^levels strings. */
function yamlAliasBomb(key: string, levels: number): string {
  const lines = [`  - &a0 [x, x, x, x, x, x, x, x, x]`];
  for (let level = 1; level <= levels; level++)
    lines.push(`  - &a${level} [${Array.from({ length: 9 }, () => `*a${level - 1}`).join(', ')}]`);
  return `${key}:\n${lines.join('\n')}\n`;
}

/* eslint-disable no-control-regex -- what these find in the output is the failure: ESC, or ESC and BEL */
const ESCAPE = /\u001b/;
const ESCAPE_OR_BELL = /\u001b|\u0007/;
/* eslint-enable no-control-regex */

const PLAN = ['plan', '--relays', 'ok.dat', '--state-dir', 'state'] as const;
const OK_LIST = { 'ok.dat': 'relay-a.corp.example\n' };
const slowRun = ['--set', 'register.timeoutMs=20000'] as const;
/** A list whose one relay the seek list `nomatch` rules out: nothing is probed, only failover relays are left. */
const UNMATCHED_LIST = { 'ro.dat': '198.18.0.1 affiliation=other\n' };

/** A forced `run` on {@link UNMATCHED_LIST} with the loopback server as its failover relay, `more` before `--state-dir`. */
function failoverRun(...more: string[]): string[] {
  return [
    'run',
    '--force',
    '--relays',
    'ro.dat',
    '--seek-list',
    'nomatch',
    '--set',
    'failoverRelays=127.0.0.1:{port}',
    ...more,
    '--state-dir',
    'state',
  ];
}

/** The args and files of a `plan` on the good list with `--config FILE`, FILE holding `content`. */
function planWithConfig(file: string, content: CaseFile): Pick<BadInputCase, 'args' | 'files'> {
  return { args: [...PLAN, '--config', file], files: { ...OK_LIST, [file]: content } };
}

export const BAD_INPUT_CASES: readonly BadInputCase[] = [
  // The foundation issue's cases.
  {
    name: 'relay list: empty file',
    kind: 'earlier',
    args: ['plan', '--relays', 'empty.dat'],
    files: { 'empty.dat': '' },
    expect: { code: 65, stderr: /empty\.dat:1:1: error: file is empty/ },
  },
  {
    name: 'relay list: binary file',
    kind: 'earlier',
    args: ['plan', '--relays', 'binary.dat'],
    files: { 'binary.dat': Buffer.from([0x61, 0x00, 0x01, 0xff]) },
    expect: { code: 65, stderr: /binary\.dat:1:\d+: error: file is not text/ },
  },
  {
    name: 'relay list: a 10 MB single line',
    kind: 'earlier',
    args: ['plan', '--relays', 'long.dat'],
    files: { 'long.dat': 'a'.repeat(10_000_000) },
    expect: { code: 65, stderr: /long\.dat:1:1: error: line is 10000000 bytes long; expected at most 4096 bytes/ },
  },
  {
    name: 'relay list: JSON with a wrong type',
    kind: 'earlier',
    args: ['plan', '--relays', 'wrong.json'],
    files: { 'wrong.json': '[{"host": "relay-a", "weight": "heavy"}]' },
    expect: {
      code: 65,
      stderr: /wrong\.json:1:\d+: error: relay \[0\]: field "weight" is string "heavy"; expected an integer/,
    },
  },
  {
    name: 'relay list: missing',
    kind: 'earlier',
    args: ['plan', '--relays', 'missing.dat'],
    expect: { code: 65, stderr: /missing\.dat: relay list not found — create it/ },
  },
  ...(
    [
      [
        'host:70000',
        'relay-b.corp.example:70000',
        /bad\.dat:2:\d+: error: port 70000 is out of range; expected 1\.\.65535/,
      ],
      [
        'weight=-1',
        'relay-b.corp.example weight=-1',
        /bad\.dat:2:\d+: error: weight "-1" is not valid; expected an integer >= 0/,
      ],
      [
        'priority=x',
        'relay-b.corp.example priority=x',
        /bad\.dat:2:\d+: error: priority "x" is not valid; expected an integer >= 0/,
      ],
      [
        'affiliation=a.b',
        'relay-b.corp.example affiliation=a.b',
        /bad\.dat:2:\d+: error: affiliation group "a\.b" is not valid/,
      ],
    ] as const
  ).map(([what, line, message]): BadInputCase => ({
    name: `relay list: a bad line is skipped (${what}), the good one kept`,
    kind: 'earlier',
    args: ['plan', '--json', '--relays', 'bad.dat'],
    files: { 'bad.dat': `relay-a.corp.example\n${line}\n` },
    expect: { code: 0, stderr: message, stdout: /"host": "relay-a\.corp\.example"/, notStdout: /relay-b/ },
  })),
  {
    name: 'relay list: an unknown key is a warning',
    kind: 'earlier',
    args: ['plan', '--json', '--relays', 'unknown.dat'],
    files: { 'unknown.dat': 'relay-a.corp.example colour=blue weight=5\n' },
    expect: { code: 0, stderr: /unknown\.dat:1:\d+: warning: unknown key "colour" ignored/, stdout: /"weight": 5/ },
  },
  {
    name: 'relay list: a duplicate relay is merged',
    kind: 'earlier',
    args: ['plan', '--json', '--relays', 'dup.dat'],
    files: {
      'dup.dat': 'relay-a.corp.example affiliation=HQ\nrelay-b.corp.example\nrelay-a.corp.example affiliation=DMZ\n',
    },
    expect: {
      code: 0,
      stderr: /dup\.dat:3:\d+: warning: relay relay-a\.corp\.example:52311 \(line 3\) is already defined at line 1/,
    },
  },
  {
    name: 'config: a typo in a setting name',
    kind: 'earlier',
    ...planWithConfig('typo.json', '{"maximumTTLToPing": 20}'),
    expect: {
      code: 78,
      stderr: /typo\.json: unknown setting "maximumTTLToPing" \(did you mean "maximumTtlToPing"\?\)/,
    },
  },
  {
    name: 'clientsettings.cfg: a non-numeric MaximumTTLToPing',
    kind: 'earlier',
    args: [...PLAN, '--client-settings', 'clientsettings.cfg'],
    files: { ...OK_LIST, 'clientsettings.cfg': '_BESClient_RelaySelect_MaximumTTLToPing=twenty\n' },
    expect: {
      code: 78,
      stderr:
        /clientsettings\.cfg:1:41: error: _BESClient_RelaySelect_MaximumTTLToPing: "twenty" is not a whole number; expected 1\.\.255/,
    },
  },
  {
    name: 'config: maximumTtlToPing 0',
    kind: 'earlier',
    ...planWithConfig('ttl.json', '{"maximumTtlToPing": 0}'),
    expect: { code: 78, stderr: /ttl\.json: maximumTtlToPing: 0 is out of range; allowed 1\.\.255/ },
  },
  {
    name: 'config: maximumTtlToPing 256',
    kind: 'earlier',
    ...planWithConfig('ttl.json', '{"maximumTtlToPing": 256}'),
    expect: { code: 78, stderr: /ttl\.json: maximumTtlToPing: 256 is out of range; allowed 1\.\.255/ },
  },
  {
    name: 'config: minRetryIntervalSeconds above maxRetryIntervalSeconds',
    kind: 'earlier',
    ...planWithConfig('retry.json', '{"minRetryIntervalSeconds": 900, "maxRetryIntervalSeconds": 600}'),
    expect: { code: 78, stderr: /minRetryIntervalSeconds: 900 is greater than maxRetryIntervalSeconds 600/ },
  },
  {
    name: 'environment: a bad value names the variable',
    kind: 'earlier',
    args: PLAN,
    files: OK_LIST,
    env: { RELAY_SELECT_PROBE_STRATEGY: 'fastest' },
    expect: { code: 78, stderr: /RELAY_SELECT_PROBE_STRATEGY: "fastest" is not allowed/ },
  },
  {
    name: 'usage: an unknown command',
    kind: 'earlier',
    args: ['selct'],
    expect: { code: 64, stderr: /Unknown argument: selct|Did you mean/ },
  },
  {
    name: 'usage: an unknown option',
    kind: 'earlier',
    args: ['plan', '--frobnicate'],
    expect: { code: 64, stderr: /frobnicate/ },
  },
  {
    name: 'usage: --set without KEY=VALUE',
    kind: 'earlier',
    args: [...PLAN, '--set', 'probe.timeoutMs'],
    files: OK_LIST,
    expect: { code: 64, stderr: /expected KEY=VALUE/ },
  },

  // An option without its value, or with a value that is not one: 64 naming the option.
  ...(
    [
      [['plan', '--relays'], /--relays needs a value: --relays FILE/],
      [['plan', '-r'], /-r \(--relays\) needs a value/],
      [['plan', '--relays', 'ok.dat', '--config'], /--config needs a value: --config FILE/],
      [['plan', '--relays', 'ok.dat', '-c'], /-c \(--config\) needs a value/],
      [['plan', '--relays', 'ok.dat', '--client-settings'], /--client-settings needs a value: --client-settings FILE/],
      [['plan', '--relays', 'ok.dat', '--set'], /--set needs a value: --set KEY=VALUE/],
      [['status', '--state-dir'], /--state-dir needs a value: --state-dir DIR/],
      [['plan', '--relays', 'ok.dat', '--seek-list'], /--seek-list needs a value/],
      [['plan', '--relays', 'ok.dat', '--strategy'], /--strategy needs a value/],
      [['plan', '--relays', 'ok.dat', '--profile'], /--profile needs a value/],
      [['probe', '198.18.0.1', '-p'], /-p \(--port\) needs a value: -p PORT/],
      [['probe', '198.18.0.1', '--port'], /--port needs a value/],
      [['report-failure', '--reason'], /--reason needs a value: --reason TEXT/],
    ] as const
  ).map(([args, message]): BadInputCase => ({
    name: `usage: ${args.slice(-1)[0]} without its value`,
    kind: 'usage',
    args,
    files: OK_LIST,
    expect: { code: 64, stderr: message },
  })),
  ...(['abc', '70000', '0', '80.5'] as const).map((port): BadInputCase => ({
    name: `usage: probe -p ${port}`,
    kind: 'usage',
    args: ['probe', '198.18.0.1', '-p', port],
    expect: { code: 64, stderr: /--port.*(expected a number|expected a TCP port, a whole number 1\.\.65535)/ },
  })),
  {
    name: 'usage: probe -p given twice',
    kind: 'usage',
    args: ['probe', '198.18.0.1', '-p', '1', '-p', '2'],
    expect: { code: 64, stderr: /--port: expected a number \(PORT\), given once/ },
  },
  {
    name: 'usage: a choice that is not one',
    kind: 'usage',
    args: [...PLAN, '--strategy', 'fastest'],
    files: OK_LIST,
    expect: { code: 64, stderr: /--strategy: "fastest" is not allowed; allowed inference, rounds/ },
  },
  {
    name: 'usage: probe with nothing to probe',
    kind: 'usage',
    args: ['probe'],
    expect: { code: 64, stderr: /probe needs HOST arguments or --relays FILE/ },
  },
  {
    name: '--set: a value, then a setting below it',
    kind: 'usage',
    args: [...PLAN, '--set', 'maximumTtlToPing=5', '--set', 'maximumTtlToPing.x=1'],
    files: OK_LIST,
    expect: {
      code: 78,
      stderr: /--set maximumTtlToPing\.x: maximumTtlToPing is already set to a value \(--set maximumTtlToPing=5\)/,
    },
  },

  // Prototype names are names: unknown settings, reported by their source, never a prototype touched.
  ...(
    [
      ['__proto__.x=1', '__proto__'],
      ['hasOwnProperty.x=1', 'hasOwnProperty'],
      ['constructor=1', 'constructor'],
      ['constructor.prototype.x=1', 'constructor'],
      ['probe.prototype.x=1', 'probe.prototype'],
      ['register.tls.__proto__=x', 'register.tls.__proto__'],
      ['toString.x=1', 'toString'],
    ] as const
  ).map(([assignment, reported]): BadInputCase => ({
    name: `--set ${assignment}`,
    kind: 'prototype path',
    args: [...PLAN, '--set', assignment],
    files: OK_LIST,
    expect: {
      code: 78,
      stderr: new RegExp(
        `--set ${reported.replace(/[.]/g, '\\.')}: unknown setting "${reported.replace(/[.]/g, '\\.')}"`,
      ),
    },
  })),
  {
    name: 'environment: RELAY_SELECT___PROTO__',
    kind: 'prototype path',
    args: PLAN,
    files: OK_LIST,
    env: { RELAY_SELECT___PROTO__: '1' },
    expect: { code: 78, stderr: /environment RELAY_SELECT___PROTO__: unknown variable/ },
  },
  {
    name: 'environment: RELAY_SELECT_CONSTRUCTOR_PROTOTYPE',
    kind: 'prototype path',
    args: PLAN,
    files: OK_LIST,
    env: { RELAY_SELECT_CONSTRUCTOR_PROTOTYPE: '{}' },
    expect: { code: 78, stderr: /environment RELAY_SELECT_CONSTRUCTOR_PROTOTYPE: unknown variable/ },
  },
  {
    name: 'JSON config: __proto__',
    kind: 'prototype path',
    ...planWithConfig('proto.json', '{"__proto__": {"probe": {"timeoutMs": 5}}}'),
    expect: { code: 78, stderr: /proto\.json: unknown setting "__proto__"/ },
  },
  {
    name: 'JSON config: constructor.prototype below a group',
    kind: 'prototype path',
    ...planWithConfig('ctor.json', '{"probe": {"constructor": {"prototype": {"x": 1}}}}'),
    expect: { code: 78, stderr: /ctor\.json: unknown setting "probe\.constructor"/ },
  },
  {
    name: 'YAML config: constructor',
    kind: 'prototype path',
    ...planWithConfig('ctor.yaml', 'constructor:\n  prototype:\n    polluted: true\n'),
    expect: { code: 78, stderr: /ctor\.yaml: unknown setting "constructor"/ },
  },
  {
    name: 'YAML config: __proto__ merge key',
    kind: 'prototype path',
    ...planWithConfig('merge.yaml', 'base: &b\n  __proto__:\n    polluted: true\nprobe:\n  <<: *b\n'),
    expect: { code: 78, stderr: /merge\.yaml: unknown setting/ },
  },
  // Not a relay-selection name nor near one: passed over quietly like the vendor's other settings (issue 12), counted under --verbose.
  {
    name: 'clientsettings.cfg: __proto__ is just another name',
    kind: 'prototype path',
    args: [...PLAN, '--verbose', '--client-settings', 'proto.cfg'],
    files: { ...OK_LIST, 'proto.cfg': '__proto__=1\nconstructor=2\n' },
    expect: {
      code: 0,
      stderr:
        /proto\.cfg \(clientsettings\.cfg form\): 0 relay-selection settings read, 2 other client settings of the vendor passed over/,
    },
  },

  // YAML that expands without end, and nesting thousands deep: a bounded, clear 78 at once.
  {
    name: 'YAML: an alias bomb in a list setting',
    kind: 'yaml',
    ...planWithConfig('bomb.yaml', yamlAliasBomb('seekList', 9)),
    expect: { code: 78, stderr: /bomb\.yaml: cannot parse the config file: holds more than 10000 values/ },
  },
  {
    name: 'YAML: an alias bomb under unknown keys',
    kind: 'yaml',
    ...planWithConfig('bomb2.yaml', yamlAliasBomb('lol', 11)),
    expect: { code: 78, stderr: /bomb2\.yaml: cannot parse the config file: holds more than 10000 values/ },
  },
  {
    name: 'YAML: an anchor used inside itself (mapping)',
    kind: 'yaml',
    ...planWithConfig('self.yaml', 'probe: &a\n  strategy: *a\n'),
    expect: { code: 78, stderr: /self\.yaml: cannot parse the config file: "probe\.strategy" contains itself/ },
  },
  {
    name: 'YAML: an anchor used inside itself (list)',
    kind: 'yaml',
    ...planWithConfig('self2.yaml', 'seekList: &a\n  - *a\n'),
    expect: { code: 78, stderr: /self2\.yaml: cannot parse the config file: "seekList\[0\]" contains itself/ },
  },
  {
    name: 'YAML: not YAML at all',
    kind: 'yaml',
    ...planWithConfig('broken.yaml', 'probe: [unclosed\n  strategy: : :\n'),
    expect: { code: 78, stderr: /broken\.yaml: cannot parse the config file: .*Fix the syntax/ },
  },
  {
    name: 'JSON: arrays nested 100000 deep',
    kind: 'nesting',
    ...planWithConfig('deep.json', `${'['.repeat(100_000)}${']'.repeat(100_000)}`),
    expect: { code: 78, stderr: /deep\.json: cannot parse the config file: nests deeper than 16 levels/ },
  },
  {
    name: 'JSON: objects nested 5000 deep',
    kind: 'nesting',
    ...planWithConfig('deep2.json', `${'{"probe":'.repeat(5000)}1${'}'.repeat(5000)}`),
    expect: {
      code: 78,
      stderr: /deep2\.json: cannot parse the config file: nests deeper than 16 levels \(at "probe\.probe\.probe"…\)/,
    },
  },
  {
    name: 'YAML: flow lists nested 100000 deep',
    kind: 'nesting',
    ...planWithConfig('deep.yaml', `${'['.repeat(100_000)}${']'.repeat(100_000)}`),
    expect: { code: 78, stderr: /deep\.yaml: cannot parse the config file/ },
  },
  {
    name: 'YAML: block mappings nested 60 deep',
    kind: 'nesting',
    ...planWithConfig(
      'deep2.yaml',
      Array.from({ length: 60 }, (_, depth) => `${'  '.repeat(depth)}probe:`).join('\n') + ' 1\n',
    ),
    expect: { code: 78, stderr: /deep2\.yaml: cannot parse the config file: nests deeper than 16 levels/ },
  },
  {
    name: 'JSON config: over 1 MiB',
    kind: 'nesting',
    ...planWithConfig('huge.json', `{"seekList": "${'a;'.repeat(600_000)}"}`),
    expect: {
      code: 78,
      stderr: /huge\.json: cannot read the config file: the file is \d+ bytes; a settings file is at most 1048576/,
    },
  },

  // Code configs that misbehave: 78 naming the file, never 70, never a silent exit 13.
  {
    name: 'code config: a getter that throws (.mjs)',
    kind: 'code config',
    ...planWithConfig('getter.mjs', "export default { get probe() { throw new Error('boom'); } };\n"),
    expect: { code: 78, stderr: /getter\.mjs: cannot load the config module: reading "probe" threw: boom/ },
  },
  {
    name: 'code config: a getter that throws (.cjs)',
    kind: 'code config',
    ...planWithConfig(
      'getter.cjs',
      "module.exports = { register: { get mode() { throw new TypeError('nope'); } } };\n",
    ),
    expect: { code: 78, stderr: /getter\.cjs: cannot load the config module: reading "register\.mode" threw: nope/ },
  },
  {
    name: 'code config: a top-level await that never settles',
    kind: 'code config',
    ...planWithConfig('forever.mjs', 'await new Promise(() => {});\nexport default {};\n'),
    expect: { code: 78, stderr: /forever\.mjs: cannot load the config module: loading it never finishes/ },
  },
  {
    name: 'code config: a syntax error (.mjs)',
    kind: 'code config',
    ...planWithConfig('syntax.mjs', 'export default { probe: { ;\n'),
    expect: {
      code: 78,
      stderr:
        /syntax\.mjs: cannot load the config module: SyntaxError: .* — Fix .*syntax\.mjs: it must load without error/,
    },
  },
  {
    name: 'code config: a syntax error (.cjs)',
    kind: 'code config',
    ...planWithConfig('syntax.cjs', 'module.exports = {{;\n'),
    expect: { code: 78, stderr: /syntax\.cjs: cannot load the config module: SyntaxError/ },
  },
  {
    name: 'code config: throws while loading',
    kind: 'code config',
    ...planWithConfig('throws.cjs', "throw new Error('cannot start');\n"),
    expect: { code: 78, stderr: /throws\.cjs: cannot load the config module: cannot start/ },
  },
  {
    name: 'code config: exports a function',
    kind: 'code config',
    ...planWithConfig('fn.mjs', 'export default () => ({ probe: {} });\n'),
    expect: { code: 78, stderr: /fn\.mjs: cannot load the config module: the top level is a function/ },
  },
  {
    name: 'code config: a Map where settings belong',
    kind: 'code config',
    ...planWithConfig('map.mjs', "export default { probe: new Map([['strategy', 'rounds']]) };\n"),
    expect: { code: 78, stderr: /map\.mjs: cannot load the config module: "probe" is a Map, not plain settings data/ },
  },
  {
    name: 'code config: a proxy whose keys throw',
    kind: 'code config',
    ...planWithConfig('proxy.mjs', "export default new Proxy({}, { ownKeys() { throw new RangeError('trap'); } });\n"),
    expect: {
      code: 78,
      stderr: /proxy\.mjs: cannot load the config module: listing the keys of the top level threw: trap/,
    },
  },
  {
    name: 'config: an unknown kind of file',
    kind: 'code config',
    ...planWithConfig('settings.conf', 'maximumTtlToPing=5\n'),
    expect: { code: 78, stderr: /settings\.conf: cannot parse the config file: unknown kind of file "\.conf"/ },
  },

  // Files that are not regular files: refused at once, never waited on.
  {
    name: '--config a FIFO',
    kind: 'not a regular file',
    ...planWithConfig('fifo.json', { fifo: true }),
    expect: { code: 78, stderr: /settings file .*fifo\.json is a FIFO, not a regular file/ },
  },
  {
    name: '--config a socket',
    kind: 'not a regular file',
    ...planWithConfig('socket.json', { socket: true }),
    expect: { code: 78, stderr: /socket\.json is a socket, not a regular file/ },
  },
  {
    name: '--config a device',
    kind: 'not a regular file',
    args: [...PLAN, '--config', '/dev/zero'],
    files: OK_LIST,
    expect: { code: 78, stderr: /settings file \/dev\/zero is a device, not a regular file/ },
  },
  {
    name: '--config a directory',
    kind: 'not a regular file',
    args: [...PLAN, '--config', 'state'],
    files: { ...OK_LIST, 'state/.keep': '' },
    expect: { code: 78, stderr: /state is a directory, not a regular file/ },
  },
  {
    name: '--client-settings a FIFO',
    kind: 'not a regular file',
    args: [...PLAN, '--client-settings', 'fifo.cfg'],
    files: { ...OK_LIST, 'fifo.cfg': { fifo: true } },
    expect: { code: 78, stderr: /clientsettings file .*fifo\.cfg is a FIFO, not a regular file/ },
  },
  {
    name: '--relays a FIFO',
    kind: 'not a regular file',
    args: ['plan', '--relays', 'fifo.dat'],
    files: { 'fifo.dat': { fifo: true } },
    expect: { code: 65, stderr: /fifo\.dat: not a regular file \(a FIFO\); expected a relay list file/ },
  },
  {
    name: '--relays a device',
    kind: 'not a regular file',
    args: ['plan', '--relays', '/dev/zero'],
    expect: { code: 65, stderr: /\/dev\/zero: not a regular file \(a device\)/ },
  },
  {
    name: 'lab topology a FIFO',
    kind: 'not a regular file',
    args: ['lab', 'topology.json'],
    files: { 'topology.json': { fifo: true } },
    expect: { code: 65, stderr: /topology\.json: cannot read topology: a FIFO, not a regular file/ },
  },
  {
    name: 'register.tls.ca a FIFO',
    kind: 'not a regular file',
    args: [
      'run',
      '--force',
      '--relays',
      'ok.dat',
      '--state-dir',
      'state',
      '--set',
      'register.scheme=https',
      '--set',
      'register.tls.ca=fifo.pem',
    ],
    files: { ...OK_LIST, 'fifo.pem': { fifo: true } },
    expect: { code: 78, stderr: /register\.tls\.ca: cannot read .*fifo\.pem: is a FIFO/ },
  },
  {
    name: 'state.json a FIFO (run): refused, lock released',
    kind: 'not a regular file',
    args: ['run', '--relays', 'ok.dat', '--state-dir', 'state'],
    files: { ...OK_LIST, 'state/state.json': { fifo: true } },
    expect: {
      code: 73,
      stderr: /the state file .*state\.json is a FIFO, not a regular file — rm /,
      absent: ['state/run.lock'],
    },
  },
  {
    name: 'state.json a FIFO (status)',
    kind: 'not a regular file',
    args: ['status', '--state-dir', 'state'],
    files: { 'state/state.json': { fifo: true } },
    expect: { code: 73, stderr: /is a FIFO, not a regular file/ },
  },
  {
    name: 'state directory a file',
    kind: 'not a regular file',
    args: ['status', '--state-dir', 'not-a-dir'],
    files: { 'not-a-dir': 'x' },
    expect: {
      code: 73,
      stderr:
        /state directory .*not-a-dir is not a regular file, not a directory|state directory .*not-a-dir is .*not a directory/,
    },
  },
  {
    name: 'client-id a FIFO',
    kind: 'not a regular file',
    args: ['run', '--relays', 'ok.dat', '--state-dir', 'state', '--set', 'register.mode=none'],
    files: { ...OK_LIST, 'state/client-id': { fifo: true } },
    expect: { code: 73, stderr: /the client id file .*client-id is a FIFO/, absent: ['state/run.lock'] },
  },

  // $import: the files it names are settings files like any other.
  {
    name: '$import: a file that does not exist',
    kind: 'import',
    ...planWithConfig('main.json', '{"$import": "missing.json"}'),
    expect: { code: 78, stderr: /missing\.json: cannot read the config file: ENOENT/ },
  },
  {
    name: '$import: a file that imports the first',
    kind: 'import',
    args: [...PLAN, '--config', 'a.json'],
    files: { ...OK_LIST, 'a.json': '{"$import": "b.json"}', 'b.json': '{"$import": ["a.json"]}' },
    expect: { code: 78, stderr: /b\.json: \$import: .*a\.json imports itself/ },
  },
  {
    name: '$import: not a path',
    kind: 'import',
    ...planWithConfig('main.json', '{"$import": {"file": "x"}}'),
    expect: { code: 78, stderr: /main\.json: \$import: expected a file path or a list of file paths/ },
  },
  {
    name: '$import: a list, not settings',
    kind: 'import',
    args: [...PLAN, '--config', 'main.json'],
    files: { ...OK_LIST, 'main.json': '{"$import": "list.json"}', 'list.json': '[1, 2]' },
    expect: { code: 78, stderr: /\$import: .*list\.json does not hold an object of settings/ },
  },

  // Time from the future: clamped, reported, and saved clamped by a real run.
  {
    name: 'status: a retry due in 2099',
    kind: 'future time',
    args: ['status', '--state-dir', 'state'],
    files: {
      'state/state.json': state({
        lastAttemptAt: '{now}',
        retry: { attempt: 3, nextAt: FAR_FUTURE, delaySeconds: 240, reason: 'x' },
      }),
    },
    expect: {
      code: 0,
      stderr:
        /state: retry\.nextAt 2099-01-01T00:00:00\.000Z is more than 2 h 12 min ahead, the longest delay the settings allow; clamped to/,
      stdout: /retry: +attempt 3 at .* \(in 2 h 12 min\)/,
    },
  },
  {
    name: 'run: a retry due in 2099 waits at most the longest delay, saved clamped',
    kind: 'future time',
    args: ['run', '--relays', 'ok.dat', '--state-dir', 'state'],
    files: {
      ...OK_LIST,
      'state/state.json': state({
        lastAttemptAt: '{now}',
        retry: { attempt: 3, nextAt: FAR_FUTURE, delaySeconds: 240, reason: 'x' },
      }),
    },
    expect: {
      code: 0,
      stderr: /retry\.nextAt 2099-01-01T00:00:00\.000Z is more than 2 h 12 min ahead/,
      stdout: /^waiting: retry 3 .* not due until 20\d\d-/,
      fileMatches: { 'state/state.json': /"nextAt": "20[2-9]\d-/ },
    },
  },
  {
    name: 'status: a last selection in 2099',
    kind: 'future time',
    args: ['status', '--state-dir', 'state'],
    files: {
      'state/state.json': state({
        ...currentAtServer,
        current: { ...currentAtServer.current, port: 52311, registeredAt: FAR_FUTURE },
        lastSelectionAt: FAR_FUTURE,
      }),
    },
    expect: { code: 0, stderr: /state: lastSelectionAt 2099-01-01T00:00:00\.000Z is in the future; clamped to/ },
  },

  // Read-only commands: nothing in the state directory created, renamed or rewritten.
  {
    name: 'status: a corrupt state file is reported, left in place',
    kind: 'read-only',
    args: ['status', '--state-dir', 'state'],
    files: { 'state/state.json': '{"version": 1, "clientId": "trunc' },
    expect: {
      code: 0,
      stderr: /state\.json is unusable \(not valid JSON: .*\); left in place: the next run moves it aside/,
      unchanged: ['state/state.json'],
      sameListing: 'state',
    },
  },
  {
    name: 'status: a future-version state file is reported, left in place',
    kind: 'read-only',
    args: ['status', '--state-dir', 'state'],
    files: { 'state/state.json': { json: { version: 9, clientId: 'x' } } },
    expect: {
      code: 0,
      stderr: /unsupported state version 9 \(expected 1\)\); left in place/,
      unchanged: ['state/state.json'],
      sameListing: 'state',
    },
  },
  {
    name: 'status: a missing state directory is not created',
    kind: 'read-only',
    args: ['status', '--state-dir', 'nothing-here'],
    expect: { code: 0, stdout: /relay: +none selected yet/, absent: ['nothing-here'] },
  },
  {
    name: 'run --dry-run: a corrupt state file is left in place',
    kind: 'read-only',
    args: [
      'run',
      '--dry-run',
      '--relays',
      'ro.dat',
      '--state-dir',
      'state',
      '--seek-list',
      'nomatch',
      '--set',
      'register.mode=none',
    ],
    files: {
      ...UNMATCHED_LIST,
      'state/state.json': '{"version": 1, "clientId": "trunc',
      'state/relay-list.cache': 'old\n',
    },
    expect: {
      code: 69,
      stderr: /left in place \(a dry run changes nothing/,
      unchanged: ['state/state.json', 'state/relay-list.cache'],
      sameListing: 'state',
    },
  },

  // Signals: 130/143 within a second, lock released, nothing recorded that did not happen.
  ...(['SIGTERM', 'SIGINT'] as const).map((signal): BadInputCase => ({
    name: `${signal} during a health check that never answers`,
    kind: 'signal',
    network: 'loopback',
    signal,
    args: ['run', '--relays', 'loop.dat', '--state-dir', 'state', ...slowRun],
    files: { 'loop.dat': '127.0.0.1:{port}\n', 'state/state.json': state(currentAtServer) },
    expect: {
      code: signal === 'SIGTERM' ? 143 : 130,
      stderr: new RegExp(`interrupted by ${signal}: health check aborted`),
      unchanged: ['state/state.json'],
      absent: ['state/run.lock'],
    },
  })),
  ...(['SIGTERM', 'SIGINT'] as const).map((signal): BadInputCase => ({
    name: `${signal} during a registration that never answers`,
    kind: 'signal',
    network: 'loopback',
    signal,
    args: [...failoverRun(), ...slowRun],
    files: UNMATCHED_LIST,
    expect: {
      code: signal === 'SIGTERM' ? 143 : 130,
      stderr: new RegExp(`interrupted by ${signal}: registration aborted`),
      absent: ['state/state.json', 'state/run.lock'],
    },
  })),
  {
    name: 'SIGTERM during a registration hook that never ends',
    kind: 'signal',
    network: 'loopback',
    signal: 'SIGTERM',
    args: failoverRun(
      '--set',
      'register.mode=command',
      '--set',
      `register.command=exec ${process.execPath} {dir}/hook.cjs`,
    ),
    // The hook ignores SIGTERM and tells the server it runs: relay-select must still end within a second.
    files: {
      ...UNMATCHED_LIST,
      'hook.cjs':
        "process.on('SIGTERM', () => {});\nrequire('node:http').get('http://127.0.0.1:{port}/hook').on('error', () => {});\nsetInterval(() => {}, 1000);\n",
    },
    expect: {
      code: 143,
      stderr: /interrupted by SIGTERM: registration aborted/,
      absent: ['state/state.json', 'state/run.lock'],
    },
  },

  // Output edges.
  {
    name: 'stdout closed by its reader (| head -1)',
    kind: 'output',
    args: ['plan', '--relays', `${REPO_ROOT}/relay-samples/large-1000.dat`],
    closeStdoutEarly: true,
    expect: { code: 0, notStderr: /EPIPE|Error|at / },
  },
  {
    name: 'stdout closed by its reader, --json',
    kind: 'output',
    args: ['plan', '--json', '--relays', `${REPO_ROOT}/relay-samples/large-1000.dat`],
    closeStdoutEarly: true,
    expect: { code: 0, notStderr: /EPIPE|Error|at / },
  },
  {
    name: 'status: escape sequences in a state file reach no terminal',
    kind: 'output',
    args: ['status', '--state-dir', 'state'],
    files: {
      'state/state.json': state({
        ...currentAtServer,
        current: {
          ...currentAtServer.current,
          host: 'relay\u001b]0;pwned\u0007\u001b[2J.example',
          pool: 'p\u001b[31m',
          port: 52311,
        },
        retry: null,
        lastHealthCheck: { at: '{now}', result: 'failing', detail: 'x\u001b[8mhidden' },
      }),
    },
    expect: { code: 0, stdout: /relay: +relay\.example:52311/, notStdout: ESCAPE_OR_BELL },
  },
  {
    name: 'a relay list host with control characters',
    kind: 'output',
    args: ['plan', '--relays', 'esc.json'],
    files: { 'esc.json': '[{"host": "relay-a\\u001b[2J.corp.example"}, {"host": "relay-b.corp.example"}]' },
    expect: { code: 0, notStdout: ESCAPE, notStderr: ESCAPE },
  },
  {
    name: 'credentials in a URL are redacted in an error',
    kind: 'output',
    args: [...PLAN, '--set', 'register.url=https://admin:s3cret@{host}:{port}/{oops}'],
    files: OK_LIST,
    expect: { code: 78, stderr: /https:\/\/\*\*\*@\{host\}/, notStderr: /s3cret/ },
  },
  {
    name: 'credentials in a failover relay URL are redacted',
    kind: 'output',
    args: [...PLAN, '--set', 'failoverRelays=http://user:hunter2@relay-x:99999/bfmirror/downloads/'],
    files: OK_LIST,
    expect: { code: 78, stderr: /http:\/\/\*\*\*@relay-x/, notStderr: /hunter2/ },
  },
  {
    name: "a failed run's one line says why, with a rounded retry delay",
    kind: 'output',
    network: 'loopback',
    args: [
      ...failoverRun(
        '--set',
        'register.url=http://{host}:{closed}/r',
        '--set',
        'minRetryIntervalSeconds=60',
        '--set',
        'jitter=0.001',
      ),
      '--quiet',
    ],
    files: UNMATCHED_LIST,
    expect: {
      code: 69,
      stdout:
        /^failed: selection forced; no relay could be registered: 127\.0\.0\.1:\d+: connection refused; retry 1 in 1 min; next attempt \d{4}-\d\d-\d\d \d\d:\d\d UTC/,
    },
  },
];
