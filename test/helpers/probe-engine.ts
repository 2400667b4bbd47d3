/**
 * Runs the probe engine inside a lab namespace. A raw socket opens in the namespace of the process that
 * creates it, so the engine must run in a child started with `ip netns exec`; the child imports the
 * built engine (dist/probe, built by `npm test`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabNetwork } from '../../src/lab/netns/network.js';
import type { ProbeOptions, ProbeReport, ProbeTarget } from '../../src/probe/types.js';
import { REPO_ROOT } from './cli.js';

/** The child program, relative to the repository (a readable copy carries it along). */
export const PROBE_CHILD_SCRIPT = 'test/helpers/probe-child.mjs';

/** Why probe tests cannot run: the engine is not built. */
export function missingEngineReason(): string | undefined {
  return existsSync(join(REPO_ROOT, 'dist', 'probe', 'index.js')) ? undefined : 'dist/ is missing: run `npm run build` first';
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

/** Runs jobs one after another in a child inside `node`'s namespace. */
export async function runProbeJobs(lab: LabNetwork, node: string, jobs: ProbeJob[]): Promise<ProbeJobResult[]> {
  const result = await lab.exec(node, [process.execPath, join(REPO_ROOT, PROBE_CHILD_SCRIPT), REPO_ROOT], { input: JSON.stringify(jobs), timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`probe child failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as ProbeJobResult[];
}
