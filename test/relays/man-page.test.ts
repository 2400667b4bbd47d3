import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_DIAGNOSTICS } from '../../src/relays/parse-context.js';
import { RELAY_LIST_LIMITS } from '../../src/relays/parse.js';
import { MAX_PRIORITY_OR_WEIGHT } from '../../src/relays/text-lines.js';
import { ALL_RELAYS_POOL } from '../../src/relays/pools.js';
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT } from '../../src/relays/relay.js';

const manPage = fileURLToPath(new URL('../../man/relay-select.dat.5', import.meta.url));
const hasGroff = spawnSync('groff', ['--version']).status === 0;

describe('man/relay-select.dat.5', () => {
  it.skipIf(!hasGroff)(`renders without a single groff warning${hasGroff ? '' : ' — skipped: needs groff'}`, () => {
    const result = spawnSync('groff', ['-man', '-ww', '-z', manPage], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
  });

  it.skipIf(!hasGroff)(
    `documents the limits, defaults and keys the parser enforces${hasGroff ? '' : ' — skipped: needs groff'}`,
    () => {
      const text = execFileSync('groff', ['-man', '-rHY=0', '-rLL=200n', '-Tutf8', '-P', '-cbou', manPage], {
        encoding: 'utf8',
      }).replace(/\u2010|\u2011/g, '-');
      const flat = text.replace(/\s+/g, ' ');
      for (const expected of [
        `${RELAY_LIST_LIMITS.maxLineBytes} bytes`,
        `${RELAY_LIST_LIMITS.maxFileBytes} bytes`,
        `at most ${RELAY_LIST_LIMITS.maxRelays}`,
        `from 0 to ${MAX_PRIORITY_OR_WEIGHT}`,
        `Default ${DEFAULT_RELAY_PORT}`,
        `Default ${DEFAULT_RELAY_WEIGHT}`,
        `At most ${MAX_DIAGNOSTICS} problems`,
        `named ${ALL_RELAYS_POOL}`,
        'port=n',
        'affiliation=group',
        'priority=n',
        'weight=n',
        'name=label',
        'RELAY_LIST_MISSING',
        'RELAY_LIST_INVALID',
        'autoselect=switch',
        'Affiliation: HQ',
        'AutoSelect',
      ]) {
        expect(flat).toContain(expected);
      }
    },
  );

  it('is roff with the sections a man page needs', () => {
    const source = readFileSync(manPage, 'utf8');
    expect(source.startsWith('.TH RELAY-SELECT.DAT 5 ')).toBe(true);
    for (const section of [
      'NAME',
      'SYNOPSIS',
      'DESCRIPTION',
      'JSON FORM',
      'VENDOR DUMP FORM',
      'LIMITS',
      'ERRORS',
      'EXAMPLES',
      'SEE ALSO',
    ]) {
      expect(source).toMatch(new RegExp(`^\\.SH "?${section}"?$`, 'm'));
    }
  });
});
