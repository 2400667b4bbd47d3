import { describe, expect, it } from 'vitest';
import { MAX_DIAGNOSTICS } from '../../src/relays/parse-context.js';
import { parseRelayList, parseRelayListBuffer, type RelayListResult } from '../../src/relays/parse.js';
import { formatDiagnostic } from '../../src/relays/relay.js';

const parse = (text: string, file = 'relays.dat'): RelayListResult => parseRelayList(text, { file });
const messages = (result: RelayListResult): string[] => result.diagnostics.map(formatDiagnostic);
const errors = (result: RelayListResult) => result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
const warnings = (result: RelayListResult) =>
  result.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning');

describe('parseRelayList, text form', () => {
  it('reads the DESIGN §3 example with defaults, groups, priority, weight and name', () => {
    const result = parse(
      [
        '# host[:port]  [key=value ...]',
        'relay-hq.corp.example           affiliation=HQ;DMZ priority=0 weight=100',
        '198.18.100.20:52311             affiliation=Branch-Lyon weight=50',
        '[2001:db8::20]:52311            affiliation=DMZ priority=1 name=dmz-v6',
        'relay-legacy.corp.example       # unaffiliated, weight 100, priority 0',
      ].join('\n'),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.rejected).toBe(false);
    expect(result.relays).toEqual([
      {
        host: 'relay-hq.corp.example',
        port: 52311,
        groups: ['hq', 'dmz'],
        priority: 0,
        weight: 100,
        source: { file: 'relays.dat', line: 2 },
      },
      {
        host: '198.18.100.20',
        port: 52311,
        groups: ['branch-lyon'],
        priority: 0,
        weight: 50,
        source: { file: 'relays.dat', line: 3 },
      },
      {
        host: '2001:db8::20',
        port: 52311,
        groups: ['dmz'],
        priority: 1,
        weight: 100,
        name: 'dmz-v6',
        source: { file: 'relays.dat', line: 4 },
      },
      {
        host: 'relay-legacy.corp.example',
        port: 52311,
        groups: [],
        priority: 0,
        weight: 100,
        source: { file: 'relays.dat', line: 5 },
      },
    ]);
  });

  it('accepts host, host:port, [v6], [v6]:port, bare v6 and port=', () => {
    const result = parse(
      'a.corp.example\nb.corp.example:8080\n[2001:db8::1]\n[2001:db8::2]:443\n2001:db8::3\nc.corp.example port=1\n',
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.relays.map((relay) => [relay.host, relay.port])).toEqual([
      ['a.corp.example', 52311],
      ['b.corp.example', 8080],
      ['2001:db8::1', 52311],
      ['2001:db8::2', 443],
      ['2001:db8::3', 52311],
      ['c.corp.example', 1],
    ]);
  });

  it('ignores comments, trailing comments, blank lines, CRLF, a BOM and tabs', () => {
    const result = parse(
      '\uFEFF# header\r\n\r\n   \t\r\n\trelay-a.corp.example\tweight=7 # trailing\r\nrelay-b.corp.example#x\r\n',
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.relays.map((relay) => [relay.host, relay.weight, relay.source?.line])).toEqual([
      ['relay-a.corp.example', 7, 4],
      ['relay-b.corp.example', 100, 5],
    ]);
  });

  it('splits affiliation on ; and , and stores groups trimmed, lower-case, once', () => {
    const result = parse(
      'r1 affiliation=HQ,Branch-Lyon;hq;DMZ_2;\nr2 affiliation=*\nr3 affiliation=HQ;*\nr4 affiliation="  HQ ; DMZ "',
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.relays.map((relay) => relay.groups)).toEqual([
      ['hq', 'branch-lyon', 'dmz_2'],
      [],
      ['hq', '*'],
      ['hq', 'dmz'],
    ]);
  });

  it('accepts a group of exactly 64 characters and refuses 65', () => {
    const ok = parse(`r1 affiliation=${'g'.repeat(64)}`);
    expect(ok.relays[0]?.groups).toEqual(['g'.repeat(64)]);
    const long = parse(`r1 affiliation=${'g'.repeat(65)}\nr2`);
    expect(messages(long)).toEqual([
      `relays.dat:1:16: error: affiliation group "${'g'.repeat(65)}" is 65 characters long; expected at most 64`,
    ]);
  });

  it('takes keys case-insensitively and a quoted name with spaces and #', () => {
    const result = parse('r1 Weight=5 PRIORITY=2 Name="Lyon relay #1"');
    expect(result.diagnostics).toEqual([]);
    expect(result.relays[0]).toMatchObject({ weight: 5, priority: 2, name: 'Lyon relay #1' });
  });

  it('accepts weight 0 and priority 0 and the port bounds 1 and 65535', () => {
    const result = parse('a weight=0 priority=0 port=1\nb:65535');
    expect(result.diagnostics).toEqual([]);
    expect(result.relays.map((relay) => [relay.weight, relay.port])).toEqual([
      [0, 1],
      [100, 65535],
    ]);
  });

  describe('bad lines: skipped with an error at file:line:column saying what was expected', () => {
    const cases: Array<[string, string, string]> = [
      [
        'host:70000',
        'r0\nrelay.corp.example:70000',
        'relays.dat:2:20: error: port 70000 is out of range; expected 1..65535',
      ],
      [
        'port=70000',
        'r0\n\n\n198.18.0.1 port=70000',
        'relays.dat:4:17: error: port 70000 is out of range; expected 1..65535',
      ],
      ['port=0', 'r0\nr1 port=0', 'relays.dat:2:9: error: port 0 is out of range; expected 1..65535'],
      ['port=abc', 'r0\nr1:abc', 'relays.dat:2:4: error: port "abc" is not a number; expected an integer 1..65535'],
      ['weight=-1', 'r0\nr1 weight=-1', 'relays.dat:2:11: error: weight "-1" is not valid; expected an integer >= 0'],
      [
        'priority=x',
        'r0\nr1  priority=x',
        'relays.dat:2:14: error: priority "x" is not valid; expected an integer >= 0',
      ],
      ['weight=', 'r0\nr1 weight=', 'relays.dat:2:11: error: weight is empty; expected an integer >= 0'],
      [
        'weight too large',
        'r0\nr1 weight=99999999999',
        'relays.dat:2:11: error: weight 99999999999 is too large; expected an integer 0..1000000000',
      ],
      [
        'affiliation=a.b',
        'r0\nr1 affiliation=HQ;a.b',
        'relays.dat:2:19: error: affiliation group "a.b" is not valid; expected letters, digits, "_" and "-" (at most 64 characters), or *',
      ],
      [
        'affiliation=',
        'r0\nr1 affiliation=',
        'relays.dat:2:16: error: affiliation is empty; expected group names separated by ";" or ",", or *',
      ],
      ['name=', 'r0\nr1 name=', 'relays.dat:2:9: error: name is empty; expected a display label'],
      [
        'two hosts',
        'r0\nr1 r2',
        'relays.dat:2:4: error: unexpected "r2"; expected key=value (port, affiliation, priority, weight, name, autoselect); one relay per line',
      ],
      [
        'key without host',
        'r0\nweight=5',
        'relays.dat:2:1: error: line starts with "weight=5"; expected host[:port] [key=value ...]',
      ],
      [
        '= without key',
        'r0\nr1 =5',
        'relays.dat:2:4: error: "=" without a key; expected key=value (port, affiliation, priority, weight, name, autoselect)',
      ],
      [
        'unterminated quote',
        'r0\nr1 name="abc',
        'relays.dat:2:9: error: quoted value has no closing "; expected "value"',
      ],
      [
        'two ports',
        'r0\nr1:80 port=81',
        'relays.dat:2:12: error: port=81 contradicts port 80 written after the host; expected one port',
      ],
      [
        'bad host character',
        'r0\nrelay!.corp.example',
        'relays.dat:2:1: error: host "relay!.corp.example" contains "!"; expected a DNS name (letters, digits, "-", "_", ".") or an IP address',
      ],
      [
        'bad IPv4',
        'r0\n198.18.0.300',
        'relays.dat:2:1: error: host "198.18.0.300" is not a valid IPv4 address; expected four numbers 0..255 separated by "."',
      ],
      [
        'bad bracket',
        'r0\n[2001:db8::1',
        'relays.dat:2:1: error: "[2001:db8::1" has no closing "]"; expected [IPv6-address]:port',
      ],
      [
        'not v6 in brackets',
        'r0\n[relay]:80',
        'relays.dat:2:2: error: "relay" is not an IPv6 address; expected [IPv6-address]:port inside brackets',
      ],
      [
        'bad bare v6',
        'r0\n2001:db8:::1',
        'relays.dat:2:1: error: "2001:db8:::1" is not an IPv6 address; expected host:port, [IPv6-address]:port or a bare IPv6 address',
      ],
      [
        'non-ASCII column counts characters',
        'r0\nr1 name=é weight=x',
        'relays.dat:2:18: error: weight "x" is not valid; expected an integer >= 0',
      ],
    ];
    it.each(cases)('%s', (_label, text, expected) => {
      const result = parse(text);
      expect(messages(result)).toEqual([expected]);
      expect(result.relays.map((relay) => relay.host)).toEqual(['r0']);
      expect(result.rejected).toBe(false);
    });
  });

  it('warns about an unknown key and keeps the relay', () => {
    const result = parse('r1 weight=5 colour=blue');
    expect(messages(result)).toEqual([
      'relays.dat:1:13: warning: unknown key "colour" ignored; expected one of port, affiliation, priority, weight, name, autoselect',
    ]);
    expect(result.relays).toHaveLength(1);
    expect(result.relays[0]?.weight).toBe(5);
    expect(result.rejected).toBe(false);
  });

  it('warns about a key given twice and uses the last value', () => {
    const result = parse('r1 weight=5 weight=6');
    expect(messages(result)).toEqual([
      'relays.dat:1:13: warning: key "weight" given twice on this line; the last value is used',
    ]);
    expect(result.relays[0]?.weight).toBe(6);
  });

  it('merges a duplicate host:port into the first definition and warns', () => {
    const result = parse(
      'relay-a.corp.example affiliation=HQ weight=10 name=first\n' +
        'other\n' +
        'RELAY-A.corp.example.:52311 affiliation=DMZ;hq weight=99 name=second priority=3\n',
    );
    expect(messages(result)).toEqual([
      'relays.dat:3:1: warning: relay RELAY-A.corp.example.:52311 (line 3) is already defined at line 1; its affiliation groups were merged into the first definition, whose priority, weight and name are kept',
    ]);
    expect(result.relays).toHaveLength(2);
    expect(result.relays[0]).toMatchObject({
      host: 'relay-a.corp.example',
      groups: ['hq', 'dmz'],
      weight: 10,
      priority: 0,
      name: 'first',
    });
  });

  it('treats two spellings of one IPv6 address as a duplicate, but not another port', () => {
    const result = parse('[2001:db8::1]:80\n2001:DB8:0:0:0:0:0:1 port=80\n[2001:db8::1]:81');
    expect(warnings(result)).toHaveLength(1);
    expect(warnings(result)[0]?.line).toBe(2);
    expect(result.relays.map((relay) => relay.port)).toEqual([80, 81]);
  });

  it('reads a text list whose first line is a bracketed IPv6 relay as text, not JSON', () => {
    const result = parse('  [2001:db8::1]:80 weight=5\n[::1]');
    expect(messages(parse('[ relay]'))).toEqual([
      'relays.dat:1:1: error: "[" has no closing "]"; expected [IPv6-address]:port',
      'relays.dat:1:1: error: no relay in the file; expected at least one line host[:port] [key=value ...]',
    ]);
    expect(parse(' [\n\n ]').diagnostics[0]?.message).toBe(
      'no relay in the file; expected at least one line host[:port] [key=value ...]',
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.relays.map((relay) => relay.host)).toEqual(['2001:db8::1', '::1']);
  });

  it('keeps an unaffiliated relay in the * pool when a duplicate adds a group', () => {
    const result = parse('r1\nr1 affiliation=HQ');
    expect(result.relays[0]?.groups).toEqual(['*', 'hq']);
  });

  it('does not let a merge change the groups of another relay sharing the same affiliation value', () => {
    const result = parse('r1 affiliation=HQ\nr2 affiliation=HQ\nr1 affiliation=DMZ');
    expect(result.relays.map((relay) => relay.groups)).toEqual([['hq', 'dmz'], ['hq']]);
  });

  it('rejects an empty file', () => {
    const result = parse('');
    expect(messages(result)).toEqual([
      'relays.dat:1:1: error: file is empty; expected at least one relay line: host[:port] [key=value ...]',
    ]);
    expect(result.rejected).toBe(true);
  });

  it('rejects a file of comments only', () => {
    const result = parse('# nothing\n\n');
    expect(messages(result)).toEqual([
      'relays.dat:1:1: error: no relay in the file; expected at least one line host[:port] [key=value ...]',
    ]);
    expect(result.rejected).toBe(true);
  });

  it('rejects a file whose every line is bad, after reporting each line', () => {
    const result = parse('a:0\nb weight=x');
    expect(errors(result).map((diagnostic) => diagnostic.line)).toEqual([1, 2, 1]);
    expect(result.rejected).toBe(true);
  });

  it('rejects a binary string (NUL byte) with its position', () => {
    const result = parse('abc\0def');
    expect(messages(result)).toEqual([
      'relays.dat:1:4: error: file is not text (NUL byte); expected a UTF-8 text relay list',
    ]);
    expect(result.rejected).toBe(true);
  });

  it('skips a 10 MB single line with a clear error and rejects the list (no relay left)', () => {
    const line = `relay.corp.example name=${'x'.repeat(10 * 1024 * 1024 - 24)}`;
    expect(Buffer.byteLength(line)).toBe(10 * 1024 * 1024);
    const result = parse(line);
    expect(messages(result)).toEqual([
      'relays.dat:1:1: error: line is 10485760 bytes long; expected at most 4096 bytes',
      'relays.dat:1:1: error: no relay in the file; expected at least one line host[:port] [key=value ...]',
    ]);
    expect(result.rejected).toBe(true);
  });

  it('counts the line limit in UTF-8 bytes, not characters', () => {
    const name = 'é'.repeat(2040); // 4080 bytes
    const under = parse(`r1 name=${name}`); // 4088 bytes
    expect(under.diagnostics).toEqual([]);
    const stillUnder = parse(`r0\nr1 name=${name}é`); // 4090 bytes
    expect(stillUnder.diagnostics).toEqual([]);
    const atLimit = parse(`r0\nr1 name=${name}éééé`); // 4096 bytes: still fine
    expect(atLimit.diagnostics).toEqual([]);
    const beyond = parse(`r0\nr1 name=${name}éééééx`); // 4099 bytes
    expect(messages(beyond)).toEqual(['relays.dat:2:1: error: line is 4099 bytes long; expected at most 4096 bytes']);
  });

  it('rejects more relays than the limit, saying the limit', () => {
    const result = parseRelayList('r1\nr2\nr3\nr4', { file: 'relays.dat', limits: { maxRelays: 3 } });
    expect(messages(result)).toEqual([
      'relays.dat:4:1: error: more than 3 relays; expected at most 3 (split the list)',
    ]);
    expect(result.rejected).toBe(true);
  });

  it('rejects text over the file size limit before parsing', () => {
    const result = parseRelayList('r1\nr2\n', { file: 'relays.dat', limits: { maxFileBytes: 4 } });
    expect(messages(result)).toEqual(['relays.dat:1:1: error: file is 6 bytes; expected at most 4 bytes (0 MiB)']);
    expect(result.rejected).toBe(true);
  });

  it('keeps at most MAX_DIAGNOSTICS diagnostics and counts the rest', () => {
    const text = `good\n${'bad:0\n'.repeat(MAX_DIAGNOSTICS + 5)}`;
    const result = parse(text);
    expect(result.diagnostics).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(result.diagnostics.at(-1)?.message).toBe(
      `5 more errors and 0 more warnings not shown; expected at most ${MAX_DIAGNOSTICS} problems per list`,
    );
    expect(result.relays).toHaveLength(1);
  });

  it('never throws for values that are not strings (called from JavaScript)', () => {
    const result = parseRelayList(undefined as unknown as string, { file: 'x' });
    expect(result.rejected).toBe(true);
  });
});

describe('parseRelayListBuffer', () => {
  it('parses UTF-8 bytes like the string form', () => {
    const text = 'r1 name=Lyon-é affiliation=HQ\n';
    expect(parseRelayListBuffer(Buffer.from(text), { file: 'relays.dat' })).toEqual(parse(text));
  });

  it('rejects a binary file (NUL byte) with line and column', () => {
    const result = parseRelayListBuffer(Buffer.from([0x72, 0x31, 0x0a, 0x50, 0x4b, 0x03, 0x04, 0x00, 0x01]), {
      file: 'relays.dat',
    });
    expect(messages(result)).toEqual([
      'relays.dat:2:5: error: file is not text (NUL byte); expected a UTF-8 text relay list',
    ]);
    expect(result.rejected).toBe(true);
  });

  it('rejects invalid UTF-8 and points at the first bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('r1\nr2 name=é'), Buffer.from([0xc3, 0x28])]);
    const result = parseRelayListBuffer(bytes, { file: 'relays.dat' });
    expect(messages(result)).toEqual([
      'relays.dat:2:10: error: file is not UTF-8 text (invalid byte 0xC3); expected a UTF-8 text relay list',
    ]);
    expect(result.rejected).toBe(true);
  });

  it('rejects overlong encodings and UTF-16 surrogates encoded as UTF-8', () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
    ]) {
      const result = parseRelayListBuffer(Buffer.from([0x72, 0x20, ...bad]), { file: 'f' });
      expect(result.diagnostics[0]?.message).toMatch(/^file is not UTF-8 text \(invalid byte 0x/);
      expect(result.diagnostics[0]?.column).toBe(3);
    }
  });

  it('rejects a buffer over the size limit without decoding it', () => {
    const result = parseRelayListBuffer(Buffer.alloc(10, 0x61), { file: 'f', limits: { maxFileBytes: 9 } });
    expect(messages(result)).toEqual(['f:1:1: error: file is 10 bytes; expected at most 9 bytes (0 MiB)']);
  });
});

describe('parseRelayList, JSON form', () => {
  it('reads an array of objects with the same fields', () => {
    const result = parse(
      JSON.stringify(
        [
          { host: 'relay-a.corp.example', affiliation: 'HQ;DMZ', priority: 1, weight: 50, name: 'A' },
          { host: '2001:db8::5', port: 8080, affiliation: ['Branch-Lyon', '*'] },
          { host: '[2001:db8::6]:443' },
          { host: 'relay-b.corp.example', affiliation: ['*'] },
        ],
        null,
        2,
      ),
      'relays.json',
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.relays).toEqual([
      {
        host: 'relay-a.corp.example',
        port: 52311,
        groups: ['hq', 'dmz'],
        priority: 1,
        weight: 50,
        name: 'A',
        source: { file: 'relays.json', line: 2 },
      },
      {
        host: '2001:db8::5',
        port: 8080,
        groups: ['branch-lyon', '*'],
        priority: 0,
        weight: 100,
        source: { file: 'relays.json', line: 9 },
      },
      {
        host: '2001:db8::6',
        port: 443,
        groups: [],
        priority: 0,
        weight: 100,
        source: { file: 'relays.json', line: 17 },
      },
      {
        host: 'relay-b.corp.example',
        port: 52311,
        groups: [],
        priority: 0,
        weight: 100,
        source: { file: 'relays.json', line: 20 },
      },
    ]);
  });

  it('names the index and field of a wrong type, at the line and column of the element', () => {
    const result = parse(
      '[\n  {"host": "a"},\n  {"host": "b", "weight": "x"},\n    {"host": 5}, 7, {"host":"c","affiliation":[1]}\n]',
      'relays.json',
    );
    expect(messages(result)).toEqual([
      'relays.json:3:3: error: relay [1]: field "weight" is string "x"; expected an integer 0..1000000000',
      'relays.json:4:5: error: relay [2]: field "host" is number 5; expected a string like "relay.corp.example"',
      'relays.json:4:18: error: relay [3] is number 7; expected an object with a "host" field',
      'relays.json:4:21: error: relay [4]: field "affiliation[0]" is number 1; expected a group name string',
    ]);
    expect(result.relays.map((relay) => relay.host)).toEqual(['a']);
    expect(result.rejected).toBe(false);
  });

  it('checks every field like the text form', () => {
    const result = parse(
      JSON.stringify([
        { host: 'ok' },
        { host: 'a', port: 70000 },
        { host: 'b', priority: -1 },
        { host: 'c', weight: 1.5 },
        { host: 'd', affiliation: 'a.b' },
        { host: 'e', affiliation: 5 },
        { host: 'f', name: '' },
        { name: 'no host' },
        { host: 'g:1', port: 2 },
        { host: 'h!' },
      ]),
      'r.json',
    );
    expect(result.diagnostics.map((diagnostic) => diagnostic.message)).toEqual([
      'relay [1]: field "port" is number 70000; expected an integer 1..65535',
      'relay [2]: field "priority" is number -1; expected an integer 0..1000000000',
      'relay [3]: field "weight" is number 1.5; expected an integer 0..1000000000',
      'relay [4]: field "affiliation": affiliation group "a.b" is not valid; expected letters, digits, "_" and "-" (at most 64 characters), or *',
      'relay [5]: field "affiliation" is number 5; expected a string or an array of strings',
      'relay [6]: field "name" is string ""; expected a non-empty string',
      'relay [7] has no "host" field; expected a string like "relay.corp.example"',
      'relay [8]: field "port" (2) contradicts port 1 in "host"; expected one port',
      'relay [9]: field "host": host "h!" contains "!"; expected a DNS name (letters, digits, "-", "_", ".") or an IP address',
    ]);
    expect(result.relays.map((relay) => relay.host)).toEqual(['ok']);
  });

  it('warns about unknown fields and merges duplicates', () => {
    const result = parse('[{"host":"a","affiliation":"HQ","colour":1},\n{"host":"A","affiliation":"DMZ"}]', 'r.json');
    expect(messages(result)).toEqual([
      'r.json:1:2: warning: relay [0]: unknown field "colour" ignored; expected one of host, port, affiliation, priority, weight, name, autoselect',
      'r.json:2:1: warning: relay A:52311 (index 1) is already defined at line 1; its affiliation groups were merged into the first definition, whose priority, weight and name are kept',
    ]);
    expect(result.relays).toEqual([expect.objectContaining({ host: 'a', groups: ['hq', 'dmz'] })]);
  });

  it('treats two spellings of one IPv6 address as a duplicate, as the text form does', () => {
    const result = parse(
      '[{"host":"2001:db8::1"},{"host":"[2001:DB8:0:0::1]:52311"},{"host":"2001:db8::2"}]',
      'r.json',
    );
    expect(warnings(result).map((diagnostic) => diagnostic.message)).toEqual([
      'relay [2001:DB8:0:0::1]:52311 (index 1) is already defined at line 1; its affiliation groups were merged into the first definition, whose priority, weight and name are kept',
    ]);
    expect(result.relays.map((relay) => relay.host)).toEqual(['2001:db8::1', '2001:db8::2']);
  });

  it('rejects invalid JSON with the position of the problem', () => {
    const result = parse('[\n  {"host": "a"},\n  {"host": }\n]', 'r.json');
    expect(result.rejected).toBe(true);
    expect(result.diagnostics).toHaveLength(1);
    expect(messages(result)).toEqual([
      "r.json:3:12: error: not valid JSON (Unexpected token '}'); expected a JSON array of relay objects",
    ]);
    expect(messages(parse('[{"host":"a"} {"host":"b"}]', 'r.json'))).toEqual([
      "r.json:1:15: error: not valid JSON (Expected ',' or ']' after array element); expected a JSON array of relay objects",
    ]);
    expect(messages(parse('[{"host":"a"}', 'r.json'))[0]).toMatch(
      /^r\.json:1:14: error: not valid JSON \(.+\); expected a JSON array/,
    );
  });

  it('rejects an empty array and a JSON array over the relay limit', () => {
    expect(messages(parse('[]', 'r.json'))).toEqual([
      'r.json:1:1: error: no relay in the file; expected at least one line host[:port] [key=value ...]',
    ]);
    const result = parseRelayList('[{"host":"a"},{"host":"b"}]', { file: 'r.json', limits: { maxRelays: 1 } });
    expect(messages(result)).toEqual(['r.json:1:1: error: 2 relays; expected at most 1 (split the list)']);
    expect(result.rejected).toBe(true);
  });
});

describe('parseRelayList, autoselect', () => {
  it('reads autoselect=false in the text form and leaves it out when true', () => {
    const result = parse(
      'a.corp.example autoselect=false\nb.corp.example autoselect=TRUE\nc.corp.example autoselect=no\n',
    );
    expect(messages(result)).toEqual([]);
    expect(result.relays.map((relay) => relay.autoselect)).toEqual([false, undefined, false]);
  });

  it('reads "autoselect": false in the JSON form', () => {
    const result = parse(
      '[{"host": "a.corp.example", "autoselect": false}, {"host": "b.corp.example", "autoselect": true}]',
    );
    expect(messages(result)).toEqual([]);
    expect(result.relays.map((relay) => relay.autoselect)).toEqual([false, undefined]);
  });

  it('refuses a value that is not a switch, at its column', () => {
    expect(messages(parse('a.corp.example autoselect=maybe\nb.corp.example\n'))).toEqual([
      'relays.dat:1:27: error: autoselect "maybe" is not valid; expected true or false',
    ]);
    expect(messages(parse('[{"host": "a.corp.example", "autoselect": "no"}, {"host": "b.corp.example"}]'))).toEqual([
      'relays.dat:1:2: error: relay [0]: field "autoselect" is string "no"; expected true or false',
    ]);
  });
});
