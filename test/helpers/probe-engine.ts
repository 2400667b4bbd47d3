/**
 * Runs the probe engine inside a lab namespace. An ICMP socket opens in the namespace of the process that
 * creates it, so the engine must run in a child started with `ip netns exec`; the child imports the
 * built engine (dist/probe, built by `npm test`) of a package root: the checkout itself, or a readable
 * copy (with the addon and the child script) when the child drops to uid 65534.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabNetwork } from '../../src/lab/netns/network.js';
import type { ProbeOptions, ProbeReport, ProbeTarget } from '../../src/probe/types.js';
import { REPO_ROOT } from './cli.js';
import { AS_NOBODY, createReadableCopy, type ReadableCopy } from './readable-copy.js';

/** The child program, relative to the repository (a readable copy carries it along). */
const PROBE_CHILD_SCRIPT = 'test/helpers/probe-child.mjs';
/** The addon as the install script builds it, relative to the package root. */
const ADDON_FILE = 'build/Release/relay_select_icmp.node';

/** Why probe tests cannot run: the engine or the addon is not built. */
export function missingEngineReason(): string | undefined {
  if (!existsSync(join(REPO_ROOT, 'dist', 'probe', 'index.js'))) return 'dist/ is missing: run `npm run build` first';
  if (!existsSync(join(REPO_ROOT, ADDON_FILE))) return `the ICMP addon is not built (${ADDON_FILE}): run npm rebuild`;
  return undefined;
}

/** A copy of the built package with the addon and the child script that uid 65534 can run. */
export function createReadableEngine(): ReadableCopy | { reason: string } {
  const missing = missingEngineReason();
  if (missing !== undefined) return { reason: missing };
  return createReadableCopy([ADDON_FILE, PROBE_CHILD_SCRIPT]);
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

/** Who the child runs as: root, or uid/gid 65534 with no supplementary groups. */
export type ProbeUser = 'root' | 'nobody';

export interface RunProbeJobsOptions {
  /** Package root whose dist/ the child imports. @default the checkout */
  root?: string;
  /** @default 'root' */
  user?: ProbeUser;
}

/** Runs jobs one after another in a child inside `node`'s namespace. */
export async function runProbeJobs(
  lab: LabNetwork,
  node: string,
  jobs: ProbeJob[],
  options: RunProbeJobsOptions = {},
): Promise<ProbeJobResult[]> {
  const root = options.root ?? REPO_ROOT;
  const argv = [
    ...(options.user === 'nobody' ? AS_NOBODY : []),
    process.execPath,
    join(root, PROBE_CHILD_SCRIPT),
    root,
  ];
  const result = await lab.exec(node, argv, { input: JSON.stringify(jobs), timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`probe child failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as ProbeJobResult[];
}
