import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/cli/command-specs.js';
import { renderManPage } from '../../src/cli/man-page.js';
import { REPO_ROOT } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string; man: string[] };

describe('man pages', () => {
  it('man/relay-select.1 is what the command metadata renders (run `npm run man` after changing commands)', () => {
    expect(readFileSync(`${REPO_ROOT}/man/relay-select.1`, 'utf8')).toBe(renderManPage(pkg.version));
  });

  it('names every command and option', () => {
    const page = readFileSync(`${REPO_ROOT}/man/relay-select.1`, 'utf8').replace(/\\-/g, '-');
    for (const command of COMMANDS) {
      expect(page).toContain(`\\fB${command.name}\\fR`);
      for (const option of command.options) expect(page).toContain(`--${option.name}`);
    }
    for (const option of GLOBAL_OPTIONS) expect(page).toContain(`--${option.name}`);
  });

  it.each(pkg.man)('%s renders without groff warnings', (page) => {
    const output = execFileSync('groff', ['-man', '-ww', '-z', `${REPO_ROOT}/${page}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(output).toBe('');
  });
});
