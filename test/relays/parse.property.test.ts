import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRelayList, parseRelayListBuffer } from '../../src/relays/parse.js';

const VALID_LINES = [
  'relay-hq.corp.example affiliation=HQ;DMZ priority=0 weight=100',
  '198.18.0.20:52311 affiliation=Branch-Lyon weight=50',
  '[2001:db8::20]:52311 affiliation=DMZ priority=1 name=dmz-v6',
  'relay-legacy.corp.example # unaffiliated',
  '2001:db8::30 port=8080',
];

/** Every diagnostic must be well formed, whatever the input; "internal error" would mean a bug. */
function expectWellFormed(result: ReturnType<typeof parseRelayList>, lineCount: number): void {
  for (const diagnostic of result.diagnostics) {
    expect(diagnostic.file).toBe('fuzz.dat');
    expect(Number.isInteger(diagnostic.line) && diagnostic.line >= 1 && diagnostic.line <= Math.max(1, lineCount)).toBe(
      true,
    );
    expect(Number.isInteger(diagnostic.column) && diagnostic.column >= 1).toBe(true);
    expect(diagnostic.message).toMatch(/expected|ignored|merged|not shown|used/);
    expect(diagnostic.message).not.toMatch(/internal error/);
  }
  expect(result.rejected).toBe(
    result.relays.length === 0 ||
      result.diagnostics.some((d) => d.severity === 'error' && d.message.startsWith('more than')),
  );
  for (const relay of result.relays) {
    expect(relay.port >= 1 && relay.port <= 65535).toBe(true);
    expect(relay.weight >= 0 && relay.priority >= 0).toBe(true);
    for (const group of relay.groups) expect(group).toMatch(/^([a-z0-9_-]{1,64}|\*)$/);
  }
}

describe('parseRelayList properties', () => {
  it('never throws on arbitrary strings and returns well-formed diagnostics', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const result = parseRelayList(text, { file: 'fuzz.dat' });
        expectWellFormed(result, text.split('\n').length);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = parseRelayListBuffer(bytes, { file: 'fuzz.dat' });
        expect(Array.isArray(result.diagnostics)).toBe(true);
        if (result.relays.length === 0) expect(result.rejected).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('reports every mutated line of a valid list as an error on that line, or keeps it as a relay', () => {
    const mutation = fc.oneof(
      fc.constant(':70000'),
      fc.constant(' weight=-1'),
      fc.constant(' priority=x'),
      fc.constant(' affiliation=a.b'),
      fc.constant(' stray'),
      fc.constant(' name="open'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(...VALID_LINES), fc.option(fc.tuple(fc.nat(), mutation), { nil: undefined })),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        (spec) => {
          const lines = spec.map(([line, change]) => {
            if (change === undefined) return line;
            const [at, insert] = change;
            const position = at % (line.length + 1);
            return line.slice(0, position) + insert + line.slice(position);
          });
          const text = lines.join('\n');
          const result = parseRelayList(text, { file: 'fuzz.dat' });
          expectWellFormed(result, lines.length);
          if (/^\s*\[\s*[{\]]/.test(text)) {
            // A mutation turned the list into the JSON form: one diagnostic for the whole file.
            expect(
              result.diagnostics.some((d) => d.severity === 'error' && d.message.startsWith('not valid JSON')),
            ).toBe(true);
            return;
          }
          const errorLines = new Set(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.line));
          const relayLines = new Set(result.relays.map((relay) => relay.source?.line));
          const warnedLines = new Set(result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.line));
          lines.forEach((line, index) => {
            const number = index + 1;
            const blank = /^\s*(#.*)?$/.test(line);
            // Each line is a relay, a merged duplicate (warning), blank, or an error: never lost silently.
            expect(blank || errorLines.has(number) || relayLines.has(number) || warnedLines.has(number)).toBe(true);
            expect(errorLines.has(number) && relayLines.has(number)).toBe(false);
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips generated relays through the text form', () => {
    const group = fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/);
    const relayArbitrary = fc.record({
      host: fc.oneof(
        fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `198.18.${a}.${b}`),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).map((label) => `${label}.corp.example`),
        fc.nat(0xffff).map((word) => `2001:db8::${word.toString(16)}`),
      ),
      port: fc.integer({ min: 1, max: 65535 }),
      groups: fc.uniqueArray(group, { maxLength: 3, selector: (name) => name.toLowerCase() }),
      priority: fc.nat(5),
      weight: fc.nat(1000),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(relayArbitrary, {
          minLength: 1,
          maxLength: 10,
          selector: (relay) => `${relay.host}:${relay.port}`,
        }),
        (relays) => {
          const text = relays
            .map((relay) => {
              const host = relay.host.includes(':') ? `[${relay.host}]:${relay.port}` : `${relay.host}:${relay.port}`;
              const affiliation = relay.groups.length > 0 ? ` affiliation=${relay.groups.join(';')}` : '';
              return `${host}${affiliation} priority=${relay.priority} weight=${relay.weight}`;
            })
            .join('\n');
          const result = parseRelayList(text, { file: 'fuzz.dat' });
          expect(result.diagnostics).toEqual([]);
          expect(result.relays.map(({ source: _source, ...rest }) => rest)).toEqual(
            relays.map((relay) => ({ ...relay, groups: relay.groups.map((name) => name.toLowerCase()) })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
