/**
 * The quick parser reads the command lines cron and monitoring run without loading yargs. Wherever it
 * answers, yargs (built from the same command metadata) must read the same command and options; for
 * anything it is not sure about it must leave the line to yargs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCommandOptions } from '../../src/cli/command-specs.js';
import { parseWithYargs } from '../../src/cli/main.js';
import { parseCommandLineQuickly } from '../../src/cli/quick-parse.js';

const io = { stdout: process.stdout };

/** Both parsers' reading of `argv`, as the command module would receive it. */
async function readBoth(argv: string[]) {
  const quick = parseCommandLineQuickly(argv);
  if (quick === undefined) return { quick: undefined, yargs: undefined };
  const viaYargs = await parseWithYargs(argv, io);
  return {
    quick: { name: quick.name, options: readCommandOptions(quick.name, quick.parsed) },
    yargs:
      viaYargs === undefined
        ? undefined
        : { name: viaYargs.name, options: readCommandOptions(viaYargs.name, viaYargs.parsed) },
  };
}

describe('parseCommandLineQuickly', () => {
  it.each([
    [['status']],
    [['status', '--json']],
    [['run', '--quiet']],
    [['run', '-q']],
    [['run', '--force', '--dry-run', '--verbose']],
    [['status', '--state-dir', '/var/lib/relay-select']],
    [['status', '--state-dir=/var/lib/relay-select']],
    [['run', '--config', '/etc/relay-select/config.json', '-r', '/etc/relay-select/Relay.dat']],
    [['run', '-c', 'config.json', '-v', '--client-settings', 'clientsettings.cfg']],
    [['run', '--set', 'probe.timeoutMs=500']],
    [['run', '--set=register.mode=none', '--quiet']],
    [['status', '--strategy', 'rounds', '--profile=large']],
    [['status', '--seek-list', 'Branch-Lyon;DMZ;*']],
    [['report-failure', '--reason', 'upload failed']],
    [['plan', '--probe', '--json']],
  ])('reads %j as yargs does', async (argv) => {
    const { quick, yargs } = await readBoth(argv);
    expect(quick).toBeDefined();
    expect(quick).toEqual(yargs);
  });

  it.each([
    [[]],
    [['--json', 'status']],
    [['stat']],
    [['status', 'extra']],
    [['status', '--']],
    [['status', '--json', '--json']],
    [['run', '--config', 'a.json', '-c', 'b.json']],
    [['status', '--json', '-q', '--quiet']],
    [['status', '--no-json']],
    [['status', '--json=true']],
    [['status', '--json', 'true']],
    [['status', '--stateDir', '/x']],
    [['status', '--state-dir']],
    [['status', '--state-dir=']],
    [['status', '--state-dir', '--json']],
    [['status', '--strategy', 'fastest']],
    [['status', '--unknown']],
    [['status', '-qv']],
    [['status', '-x']],
    [['status', '--help']],
    [['status', '-h']],
    [['status', '--version']],
    [['status', '--set', 'a=1', 'b=2']],
    [['run', '--set', '-1']],
    [['run', '--port', '52311']],
    [['probe', '198.18.0.1']],
    [['lab']],
  ])('leaves %j to yargs', (argv) => {
    expect(parseCommandLineQuickly(argv)).toBeUndefined();
  });

  it('agrees with yargs on every line it reads, among random ones', async () => {
    const token = fc.constantFrom(
      'run',
      'status',
      'plan',
      'report-failure',
      'probe',
      '--json',
      '--quiet',
      '-q',
      '-v',
      '--verbose',
      '--force',
      '--dry-run',
      '--probe',
      '--config',
      '-c',
      '--relays',
      '-r',
      '--state-dir',
      '--state-dir=/tmp/state',
      '--set',
      '--set=probe.retries=2',
      '--strategy',
      '--strategy=rounds',
      '--profile',
      '--reason',
      '--seek-list',
      '--client-settings',
      '--port',
      '--no-json',
      '--',
      '-',
      'rounds',
      'large',
      'default',
      'true',
      '/etc/relay-select/config.json',
      'probe.timeoutMs=500',
      'A;B',
      '0123',
      '-1',
    );
    const command = fc.constantFrom('run', 'status', 'plan', 'report-failure');
    // An option with a value as one element, so that repeated options are common.
    const withValue = fc
      .tuple(
        fc.constantFrom('--config', '-c', '--relays', '--state-dir', '--set', '--strategy', '--reason', '--seek-list'),
        fc.constantFrom('rounds', 'a;b', '/etc/x.json', 'probe.retries=2'),
      )
      .map(([option, value]) => [option, value]);
    const element = fc.oneof(
      token.map((single) => [single]),
      withValue,
    );
    const rest = fc.array(element, { maxLength: 5 }).map((elements) => elements.flat());
    const line = fc.oneof(
      fc.array(token, { maxLength: 7 }),
      fc.tuple(command, rest).map(([name, tokens]) => [name, ...tokens]),
    );
    let read = 0;
    await fc.assert(
      fc.asyncProperty(line, async (argv) => {
        const { quick, yargs } = await readBoth(argv);
        if (quick === undefined) return;
        read++;
        expect(quick).toEqual(yargs);
      }),
      { numRuns: 1000 },
    );
    // The property says something only if the quick parser answered often enough.
    expect(read).toBeGreaterThan(100);
  });
});
