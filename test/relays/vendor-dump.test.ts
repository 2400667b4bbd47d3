import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRelayList, parseRelayListBuffer, type RelayListResult } from '../../src/relays/parse.js';
import { buildPools } from '../../src/relays/pools.js';
import { formatDiagnostic, type Relay } from '../../src/relays/relay.js';

const sample = fileURLToPath(new URL('../../relay-samples/vendor-dump.dat', import.meta.url));
const parse = (text: string): RelayListResult => parseRelayList(text, { file: 'dump.txt' });
const messages = (result: RelayListResult): string[] => result.diagnostics.map(formatDiagnostic);
/** What a relay is, without where it was written (the two forms put it on other lines). */
const withoutSource = (relays: Relay[]) => relays.map(({ source: _source, ...relay }) => relay);

describe('parseRelayList, vendor dump form (ParseRelaysDotDat output)', () => {
  it('parses the sample into the same relays as the equivalent text list: 3 relays, one in 2 groups, one unaffiliated', () => {
    const dump = parseRelayListBuffer(readFileSync(sample), { file: sample });
    expect(messages(dump)).toEqual([]);
    const text = parse(
      [
        'relay-lyon-1.corp.example    affiliation=Branch-Lyon  priority=0  weight=200',
        'relay-hq-edge.corp.example   affiliation=HQ;DMZ       priority=1  weight=100',
        'relay-legacy.corp.example    priority=0  weight=100  autoselect=false',
      ].join('\n'),
    );
    expect(messages(text)).toEqual([]);
    expect(dump.relays).toHaveLength(3);
    expect(withoutSource(dump.relays)).toEqual(withoutSource(text.relays));
    // And the pools a seek list builds from them are the same.
    const seekList = ['HQ', 'DMZ', 'Branch-Lyon', '*'];
    const names = (relays: Relay[]) =>
      buildPools(relays, seekList).map((pool) => pool.relays.map((relay) => relay.host));
    expect(names(dump.relays)).toEqual(names(text.relays));
    expect(names(dump.relays)).toEqual([
      ['relay-hq-edge.corp.example'],
      ['relay-hq-edge.corp.example'],
      ['relay-lyon-1.corp.example'],
      ['relay-legacy.corp.example'],
    ]);
  });

  it('records where each relay starts, for messages', () => {
    const dump = parseRelayListBuffer(readFileSync(sample), { file: sample });
    const lines = readFileSync(sample, 'utf8').split('\n');
    for (const relay of dump.relays) expect(lines[relay.source!.line - 1]).toMatch(/^Affiliation:|^Name:/);
  });

  it('starts a new block at Affiliation: or a second Name:, without blank lines', () => {
    const result = parse(
      'Affiliation: A\nName: r1.corp.example.\nName: r2.corp.example.\nPort: 1\nAffiliation: B\nName: r1.corp.example.\n',
    );
    expect(messages(result)).toEqual([]);
    expect(result.relays.map((relay) => [relay.host, relay.port, relay.groups])).toEqual([
      ['r1.corp.example', 52311, ['a', 'b']],
      ['r2.corp.example', 1, []],
    ]);
  });

  it('takes IP addresses, any key case and defaults for missing lines', () => {
    const result = parse('name: 198.18.1.2\n\nNAME: 2001:db8::5\nPORT: 443\n');
    expect(messages(result)).toEqual([]);
    expect(result.relays.map((relay) => [relay.host, relay.port, relay.priority, relay.weight])).toEqual([
      ['198.18.1.2', 52311, 0, 100],
      ['2001:db8::5', 443, 0, 100],
    ]);
  });

  it('skips a bad block with an error at line:column and keeps the others', () => {
    const result = parse(
      'Name: good.corp.example.\n\nAffiliation: HQ\nName: bad.corp.example.\nPort: 99999\n\nName: also-good.corp.example.\nWeight: x\n\nName: last.corp.example.\n',
    );
    expect(result.relays.map((relay) => relay.host)).toEqual(['good.corp.example', 'last.corp.example']);
    expect(messages(result)).toEqual([
      'dump.txt:5:7: error: Port "99999" is not valid; expected an integer 1..65535; this block is skipped',
      'dump.txt:8:9: error: Weight "x" is not valid; expected an integer 0..1000000000; this block is skipped',
    ]);
  });

  it('says what is wrong with a line that is not Key: value, a block without Name and an unknown key', () => {
    const result = parse(
      'Name: a.corp.example.\nthis is not a key\n\nAffiliation: HQ\nPort: 52311\n\nName: b.corp.example.\nColour: blue\n',
    );
    expect(result.relays.map((relay) => relay.host)).toEqual(['b.corp.example']);
    expect(messages(result)).toEqual([
      'dump.txt:2:1: error: "this is not a key" is not a "Key: value" line; expected one of Affiliation:, Name:, Port:, Priority:, Weight:, AutoSelect:',
      'dump.txt:4:1: error: block has no "Name:" line; expected the relay\'s host name; this block is skipped',
      'dump.txt:8:1: warning: unknown key "Colour:" ignored; expected one of Affiliation:, Name:, Port:, Priority:, Weight:, AutoSelect:',
    ]);
  });

  it('warns when the blocks of one relay disagree on priority or weight, and keeps the first', () => {
    const result = parse(
      'Affiliation: A\nName: r.corp.example.\nPriority: 1\n\nAffiliation: B\nName: r.corp.example.\nPriority: 2\n',
    );
    expect(result.relays).toHaveLength(1);
    expect(result.relays[0]).toMatchObject({ groups: ['a', 'b'], priority: 1 });
    expect(messages(result)).toEqual([
      'dump.txt:5:1: warning: relay r.corp.example:52311 has another priority than its block at line 1; the values of line 1 are kept',
    ]);
  });

  it('is not mistaken for the text form, whose first line is a host', () => {
    expect(parse('name.corp.example:52311 affiliation=A\n').relays).toEqual([
      expect.objectContaining({ host: 'name.corp.example', groups: ['a'] }),
    ]);
  });
});
