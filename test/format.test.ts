import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as chalk from 'chalk';
import { createOutput, endQuietlyOnClosedPipe } from '../src/cli/output.js';
import {
  formatDuration,
  formatLocalTime,
  redactUrlCredentials,
  renderTable,
  streamTable,
  stripTerminalControls,
  stripTerminalControlsButColor,
} from '../src/format.js';

describe('stripTerminalControls', () => {
  it.each([
    ['colour', 'a\u001b[31mred\u001b[0m', 'ared'],
    ['a window title (OSC, BEL)', 'x\u001b]0;pwned\u0007y', 'xy'],
    ['a clipboard write (OSC 52, ST)', 'x\u001b]52;c;Zm9v\u001b\\y', 'xy'],
    ['a screen clear and cursor home', 'a\u001b[2J\u001b[Hb', 'ab'],
    ['a C1 CSI', 'a\u009b31mb', 'ab'],
    ['a DCS string', 'a\u001bPq#0;2;0;0;0\u001b\\b', 'ab'],
    ['bell, carriage return, NUL, DEL', 'a\u0007b\rc\u0000d\u007fe', 'a?b?c?d?e'],
    ['a lone ESC at the end', 'tail\u001b', 'tail'],
  ])('removes %s', (_what, text, clean) => {
    expect(stripTerminalControls(text)).toBe(clean);
  });

  it('keeps tabs, newlines and every printable character, Unicode included', () => {
    const text = 'relay-a.corp.example\t→ pool Zürich\n日本 ✓';
    expect(stripTerminalControls(text)).toBe(text);
  });

  it('keeps colour only where asked, and nothing else', () => {
    expect(stripTerminalControlsButColor('\u001b[33mwarning:\u001b[39m host\u001b[2Jx\u001b]0;t\u0007')).toBe(
      '\u001b[33mwarning:\u001b[39m hostx',
    );
  });
});

describe('redactUrlCredentials', () => {
  it.each([
    ['https://admin:s3cret@relay:52311/x', 'https://***@relay:52311/x'],
    ['register.url: "http://token@{host}:{port}/r" is bad', 'register.url: "http://***@{host}:{port}/r" is bad'],
    ['two: http://a:b@h1/ and ftp://c:d@h2', 'two: http://***@h1/ and ftp://***@h2'],
  ])('%s', (text, redacted) => {
    expect(redactUrlCredentials(text)).toBe(redacted);
  });

  it('leaves what is not a URL with credentials alone', () => {
    for (const text of ['user@host', 'mailto:a@b', 'http://relay:52311/x?from=a@b', 'no url'])
      expect(redactUrlCredentials(text)).toBe(text);
  });
});

describe('times and durations for people', () => {
  it('rounds durations the way a person says them', () => {
    expect([0.4, 45, 60.085651672371675, 89, 90, 3599, 5400, 7921, 129_600, 200_000].map(formatDuration)).toEqual([
      '0 s',
      '45 s',
      '1 min',
      '1 min',
      '2 min',
      '60 min',
      '1 h 30 min',
      '2 h 12 min',
      '1 d 12 h',
      '2 d 8 h',
    ]);
  });

  it.each([
    ['UTC', '2024-03-01 12:05 UTC'],
    ['Europe/Paris', '2024-03-01 13:05 UTC+01:00'],
    ['Asia/Kolkata', '2024-03-01 17:35 UTC+05:30'],
    ['America/St_Johns', '2024-03-01 08:35 UTC-03:30'],
  ])('a local time carries its zone (TZ=%s)', (zone, expected) => {
    // The zone is the process's: checked in a child with TZ set, over the built module (npm test builds dist/).
    const result = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { formatLocalTime } from '${new URL('../dist/format.js', import.meta.url).pathname}'; process.stdout.write(formatLocalTime('2024-03-01T12:05:00Z'));`,
      ],
      {
        env: { ...process.env, TZ: zone },
        encoding: 'utf8',
      },
    );
    expect(result.stdout).toBe(expected);
  });

  it('shows an unreadable time as it is rather than "NaN-NaN"', () => {
    expect(formatLocalTime('yesterday')).toBe('yesterday');
  });
});

describe('createOutput', () => {
  function capture(options: { json?: boolean; colour?: boolean } = {}) {
    const stdout = Object.assign(new PassThrough(), { isTTY: options.colour === true });
    const stderr = Object.assign(new PassThrough(), { isTTY: options.colour === true });
    const output = createOutput({
      json: options.json === true,
      quiet: false,
      verbose: true,
      stdout,
      stderr,
      env: options.colour ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' },
      chalk,
    });
    const read = (stream: PassThrough): string => String(stream.read() ?? '');
    return { output, out: () => read(stdout), err: () => read(stderr) };
  }

  it('strips control sequences from every human line and redacts credentials, on stdout and stderr', () => {
    const { output, out, err } = capture();
    output.line('kept relay\u001b]0;title\u0007.example at https://u:p@relay/');
    output.important('failed: \u001b[2Jx');
    output.warn('warn \u001b[8mhidden');
    output.error('error http://a:b@h/');
    output.debug('debug \u009b2J');
    output.info('info \u0007');
    expect(out()).toBe('kept relay.example at https://***@relay/\nfailed: x\n');
    expect(err()).toBe('warning: warn hidden\nrelay-select: error: error http://***@h/\ndebug \ninfo ?\n');
  });

  it('keeps its own colour on a terminal but not a colour from outside', () => {
    const { output, out } = capture({ colour: true });
    output.line(`${output.color.green('ok')} \u001b[2Jrelay`);
    expect(out()).toBe(`${output.color.green('ok')} relay\n`);
  });

  it('redacts credentials in --json too; JSON itself escapes control characters', () => {
    const { output, out } = capture({ json: true });
    output.data({ url: 'https://user:pw@relay/x', host: 'a\u001b[2Jb' });
    const text = out();
    expect(text).not.toContain('pw@');
    expect(text).not.toContain('\u001b');
    expect(JSON.parse(text)).toEqual({ url: 'https://***@relay/x', host: 'a\u001b[2Jb' });
  });

  it('a stream whose reader went away (EPIPE) ends quietly instead of throwing', () => {
    const stream = new PassThrough();
    endQuietlyOnClosedPipe(stream);
    expect(() => stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).not.toThrow();
  });

  it('streams lines and JSON pieces as safely as line and data: controls stripped, credentials redacted', async () => {
    const { output, out } = capture();
    await output.lines(['relay \u001b]0;title\u0007a', 'https://u:p@relay/']);
    expect(out()).toBe('relay a\nhttps://***@relay/\n');
    const json = capture({ json: true });
    await json.output.dataText(['{"url": "https://user:pw@relay/x",', ' "host": "a\\u001b[2Jb"}\n']);
    expect(json.out()).toBe('{"url": "https://***@relay/x", "host": "a\\u001b[2Jb"}\n');
  });

  it('a streamed result stops quietly when the reader goes away, however much is left', async () => {
    const stdout = new PassThrough({ highWaterMark: 1024 });
    endQuietlyOnClosedPipe(stdout);
    const output = createOutput({
      json: false,
      quiet: false,
      verbose: false,
      stdout,
      stderr: new PassThrough(),
      env: { NO_COLOR: '1' },
    });
    let made = 0;
    function* lines(): Generator<string> {
      for (; made < 1_000_000; made++) yield `relay-${made}`;
    }
    const writing = output.lines(lines());
    // The reader takes one chunk and goes away, as `| head -1` does.
    stdout.once('data', () => stdout.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
    await expect(writing).resolves.toBeUndefined();
    expect(made).toBeLessThan(1_000_000);
  });
});

describe('renderTable', () => {
  it('aligns columns by what shows, not by colour codes, and leaves the last column unpadded', () => {
    const red = new chalk.Chalk({ level: 1 }).red;
    const lines = renderTable(
      ['relay', 'hops', 'note'],
      [
        [red('a'), '3', ''],
        ['bbbb', '12', 'far'],
      ],
      { indent: 2 },
    );
    expect(lines).toEqual(['  relay  hops  note', `  ${red('a')}      3`, '  bbbb   12    far']);
  });

  it('takes rows longer and shorter than the header', () => {
    expect(renderTable(['a', 'b'], [['x'], ['1', '2', '3']])).toEqual(['a  b', 'x', '1  2  3']);
  });
});

describe('streamTable', () => {
  it('reads the rows twice, measuring first, and gives what renderTable gives', () => {
    let reads = 0;
    const rows = [
      ['one', '1'],
      ['three', '333'],
    ];
    const lines = [
      ...streamTable(['name', 'n'], () => {
        reads++;
        return rows;
      }),
    ];
    expect(reads).toBe(2);
    expect(lines).toEqual(renderTable(['name', 'n'], rows));
  });

  it('measures 200,000 rows made on the fly (a spread into Math.max overflows the stack there)', () => {
    function* rows(): Generator<string[]> {
      for (let index = 0; index < 200_000; index++) yield [`relay-${index}`, String(index % 10)];
    }
    let count = 0;
    let last = '';
    for (const line of streamTable(['relay', 'n'], rows)) {
      count++;
      last = line;
    }
    expect(count).toBe(200_001);
    expect(last).toBe('relay-199999  9');
  });
});
