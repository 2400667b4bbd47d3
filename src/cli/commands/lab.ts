import { rmSync } from 'node:fs';
import { RelaySelectError } from '../../errors.js';
import { isLabProcess, readLabRecords, removeLabRecord } from '../../lab/lab-record.js';
import { renderLabReport, type LabReport } from '../../lab/lab-report.js';
import { killProcess } from '../../lab/lab-processes.js';
import { runLab } from '../../lab/lab-run.js';
import { destroyNamespacesWithPrefix } from '../../lab/netns/network.js';
import { displayPath, loadTopology, packageRoot, resolveTopologyPath } from '../../lab/topology-load.js';
import { withoutLinkShaping } from '../../lab/topology.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';

/** `topology`: a topology file, the name of a bundled one, or `down`. */
export type LabOptions = CommandOptions<'lab'>;

function requireRoot(context: CliContext, what: string): void {
  if (context.uid !== 0) {
    throw new RelaySelectError(
      'NOT_ROOT',
      `relay-select lab${what} needs root: it creates and removes network namespaces (you are uid ${context.uid})`,
    );
  }
  if (process.platform !== 'linux')
    throw new RelaySelectError(
      'LAB_FAILED',
      `relay-select lab needs Linux network namespaces (this is ${process.platform})`,
    );
}

/** `lab down`: removes the namespaces and stub relays of the recorded lab with `prefix`, or of every recorded lab. */
async function runDown(context: CliContext, prefix: string | undefined): Promise<number> {
  requireRoot(context, ' down');
  const records = readLabRecords().filter((record) => prefix === undefined || record.prefix === prefix);
  const removed: { prefix: string; topology: string; namespaces: string[]; killed: number[] }[] = [];
  for (const record of records) {
    const killed = record.pids.filter((pid) => isLabProcess(pid) && killProcess(pid));
    const namespaces = await destroyNamespacesWithPrefix(record.prefix);
    rmSync(record.directory, { recursive: true, force: true });
    removeLabRecord(record.prefix);
    removed.push({ prefix: record.prefix, topology: record.topology, namespaces, killed });
  }
  if (context.output.json) {
    context.output.data({ removed });
    return exitCode('ok');
  }
  if (removed.length === 0)
    context.output.line(prefix === undefined ? 'no lab is up' : `no lab with prefix ${prefix} is up`);
  for (const lab of removed) {
    context.output.line(
      `removed lab ${lab.topology} (${lab.prefix}): ${lab.namespaces.length} namespaces, ${lab.killed.length} stub relays`,
    );
  }
  return exitCode('ok');
}

/** --prefix as `ip netns` and the lab's node names allow it. */
function checkLabPrefix(prefix: string): string {
  if (!/^rslab_[a-z0-9]{1,10}$/.test(prefix))
    throw new RelaySelectError(
      'USAGE',
      `--prefix ${prefix}: expected rslab_ and 1 to 10 lowercase letters or digits, e.g. rslab_mine1`,
    );
  return prefix;
}

/** `relay-select lab [TOPOLOGY | down]` (DESIGN §9, §10). */
export async function run(options: LabOptions, context: CliContext): Promise<number> {
  const prefix = options.prefix === undefined ? undefined : checkLabPrefix(options.prefix);
  if (options.topology === 'down') return runDown(context, prefix);
  const { output } = context;
  const path = resolveTopologyPath(options.topology, context.cwd);
  const file = displayPath(path, context.cwd);
  const topology = await loadTopology(path, context.cwd);
  requireRoot(context, '');

  let report: LabReport;
  try {
    report = await runLab({
      topology,
      file,
      keep: options.keep === true,
      ...(prefix === undefined ? {} : { prefix }),
      compare: options.compare === true,
      packageRoot: packageRoot(),
      signal: context.signal,
      onProgress: (text) => {
        output.progress(text);
        output.debug(text);
      },
    });
  } finally {
    output.endProgress();
  }

  if (output.json) output.data(report);
  else {
    const built = report.linkShapingDropped ? withoutLinkShaping(topology) : topology;
    for (const line of renderLabReport(report, built, output.color)) output.line(line);
  }
  if (report.action === null) {
    throw new RelaySelectError(
      'LAB_FAILED',
      `relay-select run gave no result in the lab (exit ${report.exitCode})${report.messages.length > 0 ? `: ${report.messages.slice(-2).join(' / ')}` : ''}`,
    );
  }
  return exitCode('ok');
}
