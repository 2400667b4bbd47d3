import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { renderTable, streamTable } from '../src/format.js';

describe('renderTable', () => {
  it('aligns columns by what shows, not by colour codes, and leaves the last column unpadded', () => {
    const red = new Chalk({ level: 1 }).red;
    const lines = renderTable(['relay', 'hops', 'note'], [[red('a'), '3', ''], ['bbbb', '12', 'far']], { indent: 2 });
    expect(lines).toEqual(['  relay  hops  note', `  ${red('a')}      3`, '  bbbb   12    far']);
  });

  it('takes rows longer and shorter than the header', () => {
    expect(renderTable(['a', 'b'], [['x'], ['1', '2', '3']])).toEqual(['a  b', 'x', '1  2  3']);
  });
});

describe('streamTable', () => {
  it('reads the rows twice, measuring first, and gives what renderTable gives', () => {
    let reads = 0;
    const rows = [['one', '1'], ['three', '333']];
    const lines = [...streamTable(['name', 'n'], () => {
      reads++;
      return rows;
    })];
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
