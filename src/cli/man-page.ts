import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-specs.js';
import { EXIT_STATUSES } from './exit-codes.js';

const commands: readonly CommandSpec[] = COMMANDS;

/** Escapes text for roff: backslashes, hyphens of options, and a leading dot or quote. */
function roffEscape(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
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
    '.SH COMMANDS',
  );
  for (const command of commands) {
    lines.push('.TP', `\\fB${roffEscape(command.name)}\\fR${command.positional ? ` \\fI${roffEscape(command.positional.usage)}\\fR` : ''}`);
    lines.push(roffEscape(command.description));
    for (const option of command.options) {
      for (const line of optionLines(option)) lines.push(line === '.TP' ? '.RS\n.TP' : line);
      lines.push('.RE');
    }
  }
  lines.push('.SH OPTIONS', roffEscape('These options are accepted by every command.'));
  for (const option of GLOBAL_OPTIONS) for (const line of optionLines(option)) lines.push(line);
  lines.push('.TP', '\\fB\\-\\-help\\fR, \\fB\\-h\\fR', 'Show help (also after a command).', '.TP', '\\fB\\-\\-version\\fR', 'Show the version.');
  lines.push('.SH EXIT STATUS', '.TP');
  EXIT_STATUSES.forEach((entry, index) => {
    if (index > 0) lines.push('.TP');
    lines.push(`.B ${entry.code}`, roffEscape(entry.meaning));
  });
  lines.push(
    '.SH ENVIRONMENT',
    '.TP',
    '.B RELAY_SELECT_*',
    roffEscape('Any setting, by its path in upper snake case, e.g. RELAY_SELECT_MAXIMUM_TTL_TO_PING=20 or RELAY_SELECT_PROBE_STRATEGY=rounds; see relay-select.conf(5).'),
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
    roffEscape('Settings, when no .relay-selectrc, relay-select.config.* or package.json entry is found; see relay-select.conf(5).'),
    '.TP',
    '.I /var/lib/relay\\-select/',
    roffEscape('State directory as root ($XDG_STATE_HOME/relay-select otherwise): state.json (current relay, schedule, failure clock, retry), client-id, the lock, and the last good relay list.'),
    '.SH EXAMPLES',
  );
  for (const command of commands) {
    for (const example of command.examples) lines.push('.PP', roffEscape(example.explanation), '.PP', '.RS', `.B ${roffEscape(example.command).replace(/"/g, '\\(dq')}`, '.RE');
  }
  lines.push(
    '.PP',
    roffEscape('A crontab line that re-selects on the settings\' schedule (every run is cheap unless a selection is due):'),
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
