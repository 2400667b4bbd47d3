import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-specs.js';
import { EXIT_STATUSES } from './exit-codes.js';
import { emptyState } from '../cycle/state.js';
import { buildRunMetrics } from '../metrics/run-metrics.js';

const commands: readonly CommandSpec[] = COMMANDS;

/** Escapes text for roff: backslashes, hyphens of options, and a leading dot or quote. */
function roffEscape(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(
      /[\u{80}-\u{10ffff}]/gu,
      (character) => `\\[u${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`,
    );
}

function optionLines(option: OptionSpec): string[] {
  const flag = `\\fB\\-\\-${roffEscape(option.name)}\\fR${option.argument ? ` \\fI${roffEscape(option.argument)}\\fR` : ''}`;
  const alias = option.alias ? `\\fB\\-${option.alias}\\fR, ` : '';
  const choices = option.choices ? ` One of: ${option.choices.map(roffEscape).join(', ')}.` : '';
  return ['.TP', `${alias}${flag}`, roffEscape(option.description) + choices];
}

/**
 * man/relay-select.1, rendered from the same metadata as --help (a test fails when the file in man/
 * differs). Regenerate with `npm run man`.
 */
export function renderManPage(version: string): string {
  const lines: string[] = [
    `.TH RELAY\\-SELECT 1 "" "relay\\-select ${roffEscape(version)}" "User Commands"`,
    '.SH NAME',
    'relay\\-select \\- find the nearest reachable relay by network hops and register with it',
    '.SH SYNOPSIS',
  ];
  for (const command of commands) {
    const positional = command.positional ? ` \\fI${roffEscape(command.positional.usage)}\\fR` : '';
    lines.push(`\\fBrelay\\-select ${roffEscape(command.name)}\\fR [\\fIoptions\\fR]${positional}`, '.br');
  }
  lines.push(
    '.SH DESCRIPTION',
    roffEscape(
      'relay-select runs on an endpoint. From a list of relays it finds the nearest reachable relay by network hops using TTL-limited ICMP echo, honours affiliation seek lists, priority and weight, and registers with the winner. Run from cron or a systemd timer, it re-selects on a schedule, resists short outages, fails over and backs off, without flooding routers with ICMP.',
    ),
    '.PP',
    roffEscape(
      'Distance is the number of routers between the endpoint and a relay: the smallest TTL that reaches it, minus one. The default strategy sends one echo at the maximum TTL to every relay of a pool, infers distances from the TTL of the replies, and verifies only the relays that compete for the win with TTL-limited echoes; the classic ladder of TTL rounds is kept as an option.',
    ),
    '.PP',
    roffEscape(
      'Verification grows with paths, not relays (probe.verify: paths, the default). Relays are grouped by /24 (IPv4) or /64 (IPv6) and by the distance their reply TTL shows; the first and the last relay of a group get an echo that expires in the last router before them, and the routers named by the Time Exceeded replies must agree, or the group is split. One relay per path is verified, always the one the tie-break would choose, and the others take its distance. This assumes that asymmetric routing belongs to a path (a subnet behind a different return route), not to one host inside a subnet, and that a subnet is not split across routers below /24 (/64). Where that does not hold, probe.verify: all verifies every relay near the best. A relay that stays silent while its /24 (/64) answers is taken to drop ICMP and is not retried. Every echo to one relay carries the same ICMP identifier and checksum whatever its TTL and sequence (as Paris traceroute does; a balance word in the payload holds the sum constant, so this holds on ping sockets, where the kernel sets identifier and checksum, and for ICMPv6, whose checksum the kernel computes), so routers that balance load per flow keep all echoes to one relay on one path. IPv4 and IPv6 relays are probed alike: the reply TTL or hop limit gives the inferred distance.',
    ),
    '.SH COMMANDS',
  );
  for (const command of commands) {
    lines.push(
      '.TP',
      `\\fB${roffEscape(command.name)}\\fR${command.positional ? ` \\fI${roffEscape(command.positional.usage)}\\fR` : ''}`,
    );
    lines.push(roffEscape(command.description));
    for (const option of command.options) {
      for (const line of optionLines(option)) lines.push(line === '.TP' ? '.RS\n.TP' : line);
      lines.push('.RE');
    }
  }
  lines.push('.SH OPTIONS', roffEscape('These options are accepted by every command.'));
  for (const option of GLOBAL_OPTIONS) for (const line of optionLines(option)) lines.push(line);
  lines.push(
    '.TP',
    '\\fB\\-\\-help\\fR, \\fB\\-h\\fR',
    'Show help (also after a command).',
    '.TP',
    '\\fB\\-\\-version\\fR',
    'Show the version.',
  );
  lines.push('.SH EXIT STATUS', '.TP');
  EXIT_STATUSES.forEach((entry, index) => {
    if (index > 0) lines.push('.TP');
    lines.push(`.B ${entry.code}`, roffEscape(entry.meaning));
  });
  lines.push(
    '.PP',
    roffEscape(
      `doctor exits 0 when every check passes and 1 when one fails; that status belongs to doctor alone. ${commands
        .filter((command) => command.stopSignal !== undefined)
        .map(
          (command) =>
            `${command.name}, a service, exits 0 when ${command.stopSignal} stops it (its normal way to end)`,
        )
        .join('; ')}.`,
    ),
    '.SH METRICS',
    roffEscape(
      "With the setting metricsFile, every run and every agent cycle rewrites that file, atomically, in the Prometheus text format for node_exporter's textfile collector (node_exporter --collector.textfile.directory=DIR; name the file DIR/relay_select.prom). Counters count since the state file was created. The metrics:",
    ),
  );
  const sample = buildRunMetrics(emptyState('x'), {
    now: new Date(0),
    action: 'waiting',
    rule: 'retry-pending',
    nextDueAt: new Date(0),
    relayListRefusedLines: 0,
    relayListRefused: false,
  });
  for (const family of sample)
    lines.push('.TP', `.B ${roffEscape(family.name)}`, roffEscape(`${family.type}. ${family.help}`));
  lines.push(
    '.SH LOGS',
    roffEscape(
      'With --log-format json, run writes its decision as one line holding one JSON object on stdout, and each warning or error as one such line on stderr. Every object has time (ISO 8601), level (debug, info, warning or error) and msg (the text line); the decision adds event (run), action, rule, reason, relay (host:port), relayAddress, distance, rttMs, pool, method, nextDueAt, packetsSent, tcpChecks, networkChange, switchMarginKept, distanceJumpHops, retryAttempt and dryRun. journald keeps each line as one message; Vector, Fluent Bit and Promtail parse it as JSON without a custom pattern.',
    ),
    '.SH ENVIRONMENT',
    '.TP',
    '.B RELAY_SELECT_*',
    roffEscape(
      'Any setting, by its path in upper snake case, e.g. RELAY_SELECT_MAXIMUM_TTL_TO_PING=20 or RELAY_SELECT_PROBE_STRATEGY=rounds; see relay-select.conf(5).',
    ),
    '.TP',
    '.B NO_COLOR',
    roffEscape('Set to anything to turn colour off. Colour is used only on a terminal, never with --json.'),
    '.TP',
    '.B FORCE_COLOR',
    roffEscape('Colour even when the output is not a terminal.'),
    '.SH FILES',
    '.TP',
    '.I /etc/relay\\-select/Relay.dat',
    roffEscape('The relay list by default; see relay-select.dat(5).'),
    '.TP',
    '.I /etc/relay\\-select/config.json',
    roffEscape(
      'Settings, when no .relay-selectrc, relay-select.config.* or package.json entry is found; as root, the only settings file besides --config (no search of the working directory). See relay-select.conf(5).',
    ),
    '.TP',
    '.I /var/lib/relay\\-select/',
    roffEscape(
      'State directory as root ($XDG_STATE_HOME/relay-select otherwise, or ~/.local/state/relay-select when XDG_STATE_HOME is unset or not absolute): state.json (current relay, schedule, failure clock, retry), client-id, the lock, the last good relay list, and while an agent with peer.enabled runs, peer.json (its view of the peers, read by status).',
    ),
    '.TP',
    '.I dist/cli.cjs, dist/cli\\-cache/',
    roffEscape(
      "In the package: the CLI as one minified file (dist/cli.cjs.map maps it back to the source for the stack traces of --verbose), and the V8 code cache of each Node the package was built or installed with (npm rebuild writes the running Node's), so that a run with nothing to do starts without compiling. A cache is used only when it is named for this very build and this Node, is a regular file reached without a symbolic link, and is owned by root or by the user running relay-select and writable by nobody else; otherwise relay-select compiles dist/cli.cjs from its source, as correct and only slower to start (relay-select doctor reports it).",
    ),
    '.SH FLEET TOPOLOGY',
    roffEscape(
      'simulate and estimate generate a network unless --topology FILE describes one: a JSON object with "routers" (each {"name", "parent"}; one root, a tree), "subnets" (each {"name", "router", "clients"}: that many endpoints behind that gateway) and "relays" (each {"host", "router"}, optionally "capacity": registrations before the relay answers 429, and "dropsIcmp": true). With --relays FILE every relay of the list must be placed, by host or host:port; without, the topology\'s relays are the list and may carry "port", "weight", "priority", "groups" and "name". An optional "newRelay" is the relay the new-relay scenario adds. The distance between a subnet and a relay is the number of routers on the tree path between them, both ends included. A problem is one line naming the field, e.g. subnets[3].router, and exit status 65.',
    ),
    '.PP',
    roffEscape(
      "The generated network: a core router with a data centre behind it, one region router per 50 subnets, sites of four subnets behind one access router (some sites one or two WAN routers further out), relays in the data centre or at a random site. A relay at the endpoint's own site is 2 routers away. Rates are per second averaged over each minute; cron runs every endpoint in the first minute of each 5-minute round, so the worst minute is what routers see.",
    ),
    '.SH SECURITY',
    roffEscape(
      "As root, relay-select uses only files that no other user can change: every settings file (and what it $imports), clientsettings.cfg, the relay list, the TLS files and the state directory with everything in it must be owned by root and not writable by group or others, and so must every directory above them, up to /; a sticky world-writable directory such as /tmp is allowed above an entry of root's. The TLS key and peer.keyFile must be mode 0600. Anything else is refused with one line naming the path, the owner and mode found, and the chown or chmod that fixes it: exit status 78 for settings and inputs, 73 for the state directory. Code configs (.js, .mjs, .cjs, .ts) run only from such trusted files, whoever runs relay-select. State files are never read or written through a symbolic link, temporary files are created exclusively under random names, and nothing is ever handed to another owner. SIGINT and SIGTERM stop a run at any point within a second (exit status 130 or 143), the lock released and nothing recorded that did not happen.",
    ),
    '.SH EXAMPLES',
  );
  for (const command of commands) {
    for (const example of command.examples)
      lines.push(
        '.PP',
        roffEscape(example.explanation),
        '.PP',
        '.RS',
        `.B ${roffEscape(example.command).replace(/"/g, '\\(dq')}`,
        '.RE',
      );
  }
  lines.push(
    '.PP',
    roffEscape(
      "A crontab line that re-selects on the settings' schedule (every run is cheap unless a selection is due):",
    ),
    '.PP',
    '.RS',
    '.B */5 * * * * root relay\\-select run \\-\\-quiet',
    '.RE',
    '.SH SEE ALSO',
    '.BR relay\\-select.conf (5),',
    '.BR relay\\-select.dat (5),',
    '.BR relay\\-select\\-lab (5),',
    '.BR ip\\-netns (8)',
  );
  return `${lines.join('\n')}\n`;
}
