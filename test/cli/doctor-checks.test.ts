import { describe, expect, it } from 'vitest';
import {
  checkClock,
  checkCodeCache,
  checkNodeVersion,
  describeAge,
  formatBytes,
  satisfiesEngines,
} from '../../src/cli/commands/doctor/checks.js';
import { renderDoctorJson, renderDoctorLine } from '../../src/cli/commands/doctor/render.js';
import { settings } from '../helpers/settings.js';
import { T0, at, state } from '../cycle/builders.js';

const ENGINES = '^20.19.0 || ^22.12.0 || ^24.0.0';

describe('doctor checks', () => {
  it('knows which Node versions package.json engines admits', () => {
    expect(
      ['20.19.0', '20.20.2', '22.12.0', '22.23.5', '24.0.0', 'v24.22.3'].map((version) =>
        satisfiesEngines(version, ENGINES),
      ),
    ).toEqual([true, true, true, true, true, true]);
    expect(
      ['18.20.4', '20.18.3', '21.7.0', '22.11.0', '23.1.0', '25.0.0'].map((version) =>
        satisfiesEngines(version, ENGINES),
      ),
    ).toEqual([false, false, false, false, false, false]);
  });

  it('fails the node check on an unsupported Node, with the fix', () => {
    expect(checkNodeVersion('18.20.4', ENGINES)).toEqual({
      name: 'node',
      ok: false,
      summary: `Node 18.20.4 is not supported (supported: ${ENGINES})`,
      fix: 'install a supported Node (20.19 or later 20.x, 22.12 or later 22.x, or 24.x) and run relay-select with it',
    });
    expect(checkNodeVersion('20.20.2', ENGINES).ok).toBe(true);
  });

  it('passes the code-cache check only for a usable cache, and says what an operator does otherwise', () => {
    const path = '/opt/relay-select/dist/cli-cache/0123456789abcdef-x64-v8-12.4-node.57.bin';
    expect(checkCodeCache({ state: 'usable', path }, 'v22.23.5')).toEqual({
      name: 'code-cache',
      ok: true,
      summary: `${path}: this build's V8 code cache for Node v22.23.5`,
    });
    const missing = checkCodeCache({ state: 'missing', path }, 'v22.23.5');
    expect(missing).toMatchObject({ ok: false, fix: expect.stringMatching(/^npm rebuild relay-select\b/) });
    expect(missing.summary).toContain('slower to start');
    const refused = checkCodeCache({ state: 'refused', path }, 'v22.23.5');
    expect(refused).toMatchObject({ ok: false, fix: expect.stringMatching(/^remove it; npm rebuild relay-select\b/) });
    expect(refused.summary).toMatch(/^\/opt\/.*\.bin is not used: .*writable by nobody else$/);
    expect(checkCodeCache({ state: 'no-bundle', path: undefined }, 'v22.23.5')).toMatchObject({
      ok: false,
      summary: expect.stringContaining('dist/cli.cjs'),
    });
  });

  it('fails the clock check on a state time ahead of now, or a retry due beyond what the settings allow', () => {
    expect(checkClock(state(), at(10), settings()).ok).toBe(true);
    expect(checkClock(state({ lastAttemptAt: at(3600).toISOString() }), T0, settings())).toMatchObject({
      ok: false,
      summary: expect.stringContaining("the state's lastAttemptAt (2024-03-01T13:00:00.000Z) is 3600 s ahead"),
    });
    const farRetry = state({
      retry: { attempt: 1, nextAt: at(400 * 86_400).toISOString(), delaySeconds: 60, reason: 'x' },
    });
    expect(checkClock(farRetry, T0, settings())).toMatchObject({
      ok: false,
      summary: expect.stringContaining('more than maxRetryIntervalSeconds 7200 allows'),
    });
    expect(checkClock(null, T0, settings()).ok).toBe(true);
  });

  it('words ages and sizes as people read them', () => {
    expect(describeAge(new Date(T0.getTime() - 30_000), T0)).toBe('30 s ago');
    expect(describeAge(new Date(T0.getTime() - 3 * 3600_000), T0)).toBe('3 h ago');
    expect(describeAge(new Date(T0.getTime() - 9 * 86_400_000), T0)).toBe('9 d ago');
    expect(describeAge(new Date(T0.getTime() + 600_000), T0)).toBe('600 s in the future');
    expect([512, 1536, 12.3 * 1024 ** 3].map(formatBytes)).toEqual(['512 bytes', '1.5 KiB', '12 GiB']);
  });

  it('renders a line per check and the JSON object', () => {
    const checks = [checkNodeVersion('20.20.2', ENGINES), checkNodeVersion('18.0.0', ENGINES)];
    expect(checks.map(renderDoctorLine)).toEqual([
      `✔ node: Node 20.20.2 (supported: ${ENGINES})`,
      expect.stringMatching(/^✘ node: Node 18\.0\.0 is not supported .* — fix: install a supported Node/),
    ]);
    expect(renderDoctorJson(checks)).toEqual({ ok: false, checks });
  });
});
