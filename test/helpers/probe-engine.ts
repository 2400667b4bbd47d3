/**
 * Runs the probe engine inside a lab namespace. A raw socket opens in the namespace of the process that
 * creates it, so the engine must run in a child started with `ip netns exec`; the child imports a copy of
 * src/probe compiled here (only the probe sources and what they import, so others' work in progress
 * cannot break it).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LabNetwork } from '../../src/lab/network.js';
import type { ProbeOptions, ProbeReport, ProbeTarget } from '../../src/probe/types.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
export const PROBE_CHILD_SCRIPT = fileURLToPath(new URL('./probe-child.mjs', import.meta.url));

/** Compiles src/probe and src/lab/network.ts (and their imports) once per content hash; returns the output directory. */
export async function compileProbeEngine(): Promise<string> {
  const labSources = ['network.ts', 'network-plan.ts', 'link-delay.ts'].map((file) => join(repositoryRoot, 'src/lab', file));
  const sources = [join(repositoryRoot, 'src/errors.ts'), ...labSources, ...readdirSync(join(repositoryRoot, 'src/probe')).map((file) => join(repositoryRoot, 'src/probe', file))].sort();
  const hash = createHash('sha256');
  for (const file of sources) hash.update(file).update(readFileSync(file));
  const outDir = join(tmpdir(), `relay-select-probe-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(outDir, 'package.json'))) return outDir;
  mkdirSync(outDir, { recursive: true });
  const tsc = join(repositoryRoot, 'node_modules/.bin/tsc');
  const args = [join(repositoryRoot, 'src/probe/index.ts'), labSources[0]!, '--outDir', outDir, '--rootDir', join(repositoryRoot, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--strict'];
  await promisify(execFile)(tsc, args, { cwd: repositoryRoot }).catch((error: { stdout?: string }) => {
    // Type errors still emit JavaScript; only a missing output is fatal.
    if (!existsSync(join(outDir, 'probe/index.js'))) throw new Error(`compiling the probe engine failed: ${error.stdout ?? String(error)}`);
  });
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return outDir;
}

export type ProbeJob =
  | { kind: 'probe'; targets: ProbeTarget[]; options: Omit<ProbeOptions, 'signal' | 'onProbeSent' | 'onReply' | 'onRoundDone'>; identifier?: number }
  | { kind: 'echo'; address: string; family: 4 | 6; ttl: number }
  | { kind: 'open-socket' };

export type ProbeJobResult =
  | { kind: 'probe'; report: ProbeReport; replies: Array<{ address: string; kind: string; ttl: number }> }
  | { kind: 'echo'; replyTtl: number | null; source: string | null }
  | { kind: 'open-socket'; code: string | null }
  | { kind: 'error'; code: string | null; message: string };

export function childEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_PATH: join(repositoryRoot, 'node_modules') };
}

/** Runs jobs one after another in a child inside `node`'s namespace. */
export async function runProbeJobs(lab: LabNetwork, node: string, engineDir: string, jobs: ProbeJob[]): Promise<ProbeJobResult[]> {
  const result = await lab.exec(node, [process.execPath, PROBE_CHILD_SCRIPT, engineDir], { input: JSON.stringify(jobs), env: childEnvironment(), timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`probe child failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as ProbeJobResult[];
}
