/**
 * Runs the probe engine inside a lab namespace. An ICMP socket opens in the namespace of the process that
 * creates it, so the engine must run in a child started with `ip netns exec`; the child imports a copy of
 * src/probe compiled here (only the probe sources and what they import, so others' work in progress
 * cannot break it). The copy, the ICMP addon and the child script sit together in a world-readable
 * temporary directory, so a child dropped to uid 65534 can run them wherever the checkout is.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LabNetwork } from '../../src/lab/network.js';
import type { ProbeOptions, ProbeReport, ProbeTarget } from '../../src/probe/types.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_SCRIPT_SOURCE = fileURLToPath(new URL('./probe-child.mjs', import.meta.url));
const ADDON = join(repositoryRoot, 'build/Release/relay_select_icmp.node');

/** The child script beside a compiled engine (see compileProbeEngine). */
export function probeChildScript(engineDir: string): string {
  return join(engineDir, '..', 'probe-child.mjs');
}

/**
 * Compiles src/probe and src/lab/network.ts (and their imports) once per content hash and returns the
 * directory of the JavaScript (`DIR/probe/index.js`, `DIR/lab/network.js`); the addon goes to
 * `DIR/../build/Release`, where the compiled loader looks, as dist/ does.
 */
export async function compileProbeEngine(): Promise<string> {
  const labSources = ['network.ts', 'network-plan.ts', 'link-delay.ts'].map((file) => join(repositoryRoot, 'src/lab', file));
  const sources = [join(repositoryRoot, 'src/errors.ts'), ...labSources, ...readdirSync(join(repositoryRoot, 'src/probe')).map((file) => join(repositoryRoot, 'src/probe', file))].sort();
  const hash = createHash('sha256');
  for (const file of [...sources, CHILD_SCRIPT_SOURCE, ADDON]) hash.update(file).update(existsSync(file) ? readFileSync(file) : '');
  const rootDir = join(tmpdir(), `relay-select-probe-${hash.digest('hex').slice(0, 16)}`);
  const outDir = join(rootDir, 'dist');
  if (existsSync(join(outDir, 'package.json'))) return outDir;
  if (!existsSync(ADDON)) throw new Error(`the ICMP addon is not built (${ADDON}): run npm rebuild`);
  mkdirSync(join(rootDir, 'build/Release'), { recursive: true, mode: 0o755 });
  copyFileSync(ADDON, join(rootDir, 'build/Release/relay_select_icmp.node'));
  copyFileSync(CHILD_SCRIPT_SOURCE, join(rootDir, 'probe-child.mjs'));
  mkdirSync(outDir, { recursive: true });
  const tsc = join(repositoryRoot, 'node_modules/.bin/tsc');
  const args = [join(repositoryRoot, 'src/probe/index.ts'), labSources[0]!, '--outDir', outDir, '--rootDir', join(repositoryRoot, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--strict'];
  await promisify(execFile)(tsc, args, { cwd: repositoryRoot }).catch((error: { stdout?: string }) => {
    // Type errors still emit JavaScript; only a missing output is fatal.
    if (!existsSync(join(outDir, 'probe/index.js'))) throw new Error(`compiling the probe engine failed: ${error.stdout ?? String(error)}`);
  });
  writeFileSync(join(rootDir, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return outDir;
}

export type ProbeJob =
  | {
      kind: 'probe';
      targets: ProbeTarget[];
      options: Omit<ProbeOptions, 'signal' | 'onProbeSent' | 'onReply' | 'onRoundDone'>;
      identifier?: number;
      /** Block the event loop this long right after the first echo request left (the busy-loop test). */
      busyMs?: number;
    }
  | { kind: 'echo'; address: string; family: 4 | 6; ttl: number; transport?: 'auto' | 'ping' | 'raw' }
  | { kind: 'open-socket'; transport?: 'auto' | 'ping' | 'raw' };

export interface HeardReply {
  address: string;
  kind: string;
  ttl: number;
  rttMs: number;
}

export type ProbeJobResult =
  | {
      kind: 'probe';
      report: ProbeReport;
      replies: HeardReply[];
      /** With busyMs: monotonic time from the first echo request's send to JavaScript hearing its answer. */
      heardAfterMs: number | null;
    }
  | { kind: 'echo'; replyTtl: number | null; source: string | null }
  | { kind: 'open-socket'; code: string | null; message: string | null }
  | { kind: 'error'; code: string | null; message: string };

export function childEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env };
}

/**
 * Why uid 65534 cannot run this node (e.g. a 0700 directory above the binary), or undefined. The engine
 * copy it runs is world-readable (compileProbeEngine); the node binary must be too.
 */
export function nobodyCannotRunNodeReason(): string | undefined {
  const tried = spawnSync(process.execPath, ['-e', '0'], { uid: 65534, gid: 65534, stdio: 'ignore' });
  if (tried.status === 0) return undefined;
  return `uid 65534 cannot run ${process.execPath} (${(tried.error as NodeJS.ErrnoException | undefined)?.code ?? `exit ${tried.status}`}): a directory above it is not world-searchable`;
}

/** Who the child runs as: root, or uid/gid 65534 with no supplementary groups. */
export type ProbeUser = 'root' | 'nobody';
export const DROP_TO_NOBODY = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];

/** Runs jobs one after another in a child inside `node`'s namespace. */
export async function runProbeJobs(lab: LabNetwork, node: string, engineDir: string, jobs: ProbeJob[], user: ProbeUser = 'root'): Promise<ProbeJobResult[]> {
  const argv = [...(user === 'nobody' ? DROP_TO_NOBODY : []), process.execPath, probeChildScript(engineDir), engineDir];
  const result = await lab.exec(node, argv, { input: JSON.stringify(jobs), env: childEnvironment(), timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`probe child failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as ProbeJobResult[];
}
