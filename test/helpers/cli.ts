import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/relay-select.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin/relay-select.js over dist/, built by `npm test`) and waits for it. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; prefix?: string[] } = {}): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  for (const name of Object.keys(env)) if (name.startsWith('RELAY_SELECT_') && !(options.env && name in options.env)) delete env[name];
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, CLI, ...args];
  const result = spawnSync(command!, rest, { cwd: options.cwd ?? REPO_ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
