import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLIENT_SETTING_NAMES } from '../../src/config/client-settings.js';
import { PROFILES } from '../../src/config/defaults.js';
import { SETTING_DOCS } from '../../src/config/load.js';

const manPath = fileURLToPath(new URL('../../man/relay-select.conf.5', import.meta.url));
const source = readFileSync(manPath, 'utf8');
/** The man page as a reader sees its words: escapes and font changes removed. */
const text = source
  .replace(/\\f[BIRP]/g, '')
  .replace(/\\-/g, '-')
  .replace(/\\&/g, '')
  .replace(/\\e/g, '\\');
const groffAvailable = spawnSync('groff', ['--version']).status === 0;

describe('man/relay-select.conf.5', () => {
  it.each(SETTING_DOCS.map((doc) => [doc.path, doc] as const))(
    'documents %s with its type, range, default and variable',
    (path, doc) => {
      expect(source).toContain(`.B ${path.replace(/-/g, '\\-')}\n`);
      const entry = text.slice(text.indexOf(`.B ${path}\n`));
      const facts = entry.slice(0, entry.indexOf('.TP', 1) === -1 ? undefined : entry.indexOf('.TP', 1));
      expect(facts).toContain(`Type: ${doc.type}.`);
      expect(facts).toContain(`Allowed: ${doc.range}.`);
      expect(facts).toContain(`Default: ${doc.default}.`);
      expect(facts).toContain(`Environment: ${doc.environment}.`);
      for (const name of doc.clientSettings) expect(facts).toContain(name);
      if (doc.largeProfile !== undefined) expect(facts).toContain(`Profile large: ${doc.largeProfile}.`);
    },
  );

  it('names every clientsettings.cfg name relay-select reads', () => {
    for (const { name } of CLIENT_SETTING_NAMES) expect(text).toContain(name);
  });

  it('lists the large profile values', () => {
    const section = text.slice(text.indexOf('.SH PROFILES'), text.indexOf('.SH CLIENTSETTINGS.CFG'));
    for (const [setting, value] of Object.entries(PROFILES.large)) expect(section).toContain(`${setting} ${value}`);
  });

  it.skipIf(!groffAvailable)('is clean roff: groff -man -ww -z prints nothing', () => {
    const result = spawnSync('groff', ['-man', '-ww', '-z', manPath], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });
});
