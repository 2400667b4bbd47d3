// Probe benchmark (issues 3 and 9): one namespace lab with 1000 relay addresses, 200 of them IPv6, nearest 3
// routers away, and contenders run inside the endpoint namespace — relay-select `inference` and `rounds`
// (the real CLI) on the whole list and on each family's part of it, and `netselect -I` on the IPv4 part
// (it probes IPv4 only). The ladder baseline is `rounds`; the net-ping ladder of issue 3 is gone with
// raw-socket (see the README's Development section). Echo requests leaving the endpoint are
// counted per family by nftables counters in the endpoint namespace. Router ICMP rate limits stay at
// Linux defaults (DESIGN §10).
//
// Used by bench/run.mjs; `node bench/probe-bench.mjs [--repetitions N]` runs it alone.
// Writes bench/results/probe.json and bench/results/probe.md. Needs root, iproute2 and a built dist/.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDirectory = join(root, 'bench', 'results');

/**
 * Relays per distance (routers between the endpoint and the relay). Few relays near the best, most of
 * them 6–12 routers away, like a branch office whose own relays are few and whose WAN reaches many.
 */
const RELAYS_BY_DISTANCE = { 3: 5, 4: 15, 5: 30, 6: 60, 7: 110, 8: 160, 9: 190, 10: 180, 11: 150, 12: 100 };
/** The IPv6 share of the relays at every distance (a fifth: 200 of 1000). */
const IPV6_SHARE = 0.2;
const MAX_DISTANCE = 12;
/** Core routers r1..r3 shared by every path; two WAN branches a4..a12 and b4..b12 fork after r3. */
const CORE = 3;
/** Time Exceeded tokens of a Linux router refill at 1/s up to a burst of 6: every run starts on full buckets. */
const RATE_LIMIT_REFILL_MS = 6500;
const TARGETS = { inferencePacketsPerRelay: 1.1, speedupOverRounds: 5, ipv6PacketsPerRelayWithin: 0.1 };

/** The topology: endpoint `ep` on r1; relay hosts on the routers at their distance. */
function createBenchSpec() {
  const routers = [];
  const links = [];
  for (let index = 1; index <= CORE; index += 1) {
    routers.push(`r${index}`);
    if (index > 1) links.push({ from: `r${index - 1}`, to: `r${index}` });
  }
  for (const branch of ['a', 'b']) {
    for (let distance = CORE + 1; distance <= MAX_DISTANCE; distance += 1) {
      routers.push(`${branch}${distance}`);
      links.push({ from: distance === CORE + 1 ? `r${CORE}` : `${branch}${distance - 1}`, to: `${branch}${distance}` });
    }
  }
  const hosts = [{ name: 'ep', attach: 'r1' }];
  for (const [text, count] of Object.entries(RELAYS_BY_DISTANCE)) {
    const distance = Number(text);
    const ipv6 = Math.round(count * IPV6_SHARE);
    const ipv4 = count - ipv6;
    if (distance <= CORE) {
      hosts.push({ name: `h${distance}`, attach: `r${distance}`, extraAddresses: ipv4, extraIpv6Addresses: ipv6 });
    } else {
      // Split over both branches, so the relays at one distance sit behind different routers.
      const onA = { ipv4: Math.ceil(ipv4 / 2), ipv6: Math.ceil(ipv6 / 2) };
      hosts.push({ name: `ha${distance}`, attach: `a${distance}`, extraAddresses: onA.ipv4, extraIpv6Addresses: onA.ipv6 });
      if (count - onA.ipv4 - onA.ipv6 > 0) hosts.push({ name: `hb${distance}`, attach: `b${distance}`, extraAddresses: ipv4 - onA.ipv4, extraIpv6Addresses: ipv6 - onA.ipv6 });
    }
  }
  return { ipv6: true, routers, hosts, links };
}

/** Deterministic shuffle (mulberry32), so the nearest relays are not first in the list. */
function shuffle(values, seed) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const result = [...values];
  for (let index = result.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [result[index], result[other]] = [result[other], result[index]];
  }
  return result;
}

function runCommand(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

/** Installs a Debian package when `binary` is missing; apt-get update once if the first try fails. */
function ensureDebianPackage(binary, pkg, log) {
  if (runCommand('sh', ['-c', `command -v ${binary}`]).status === 0) return { available: true, installed: false };
  log(`installing Debian package ${pkg} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let attempt = runCommand('apt-get', ['install', '-y', '-q', pkg], { env });
  if (attempt.status !== 0) {
    runCommand('apt-get', ['update', '-q'], { env });
    attempt = runCommand('apt-get', ['install', '-y', '-q', pkg], { env });
  }
  if (runCommand('sh', ['-c', `command -v ${binary}`]).status === 0) return { available: true, installed: true };
  const reason = `apt-get install ${pkg} failed (${attempt.status}): ${(attempt.stderr || attempt.stdout || '').trim().split('\n').slice(-2).join(' ')}`;
  return { available: false, installed: false, reason };
}

/** Runs argv inside the node's namespace with its own cwd; resolves with code, output and wall time. */
function execTimed(lab, node, argv, { cwd, env, timeoutMs = 180_000 } = {}) {
  return new Promise((resolve) => {
    const startMs = performance.now();
    const child = lab.spawn(node, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + error.message, wallMs: performance.now() - startMs, timedOut: false });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - startMs, timedOut: signal === 'SIGKILL' });
    });
  });
}

const NFT_RULESET = `
table inet relay_select_bench {
  chain out {
    type filter hook output priority 0; policy accept;
    icmp type echo-request counter comment "echo_request_out"
    icmpv6 type echo-request counter comment "echo_request6_out"
    tcp flags & (syn | ack) == syn counter comment "tcp_syn_out"
  }
  chain in {
    type filter hook input priority 0; policy accept;
    icmp type echo-reply counter comment "echo_reply_in"
    icmpv6 type echo-reply counter comment "echo_reply6_in"
    icmp type time-exceeded counter comment "time_exceeded_in"
    icmpv6 type time-exceeded counter comment "time_exceeded6_in"
  }
}
`;

async function nft(lab, args, input) {
  const result = await lab.exec('ep', ['nft', ...args], { input, timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`nft ${args.join(' ')} in the endpoint namespace failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

async function readCounters(lab) {
  const ruleset = JSON.parse(await nft(lab, ['-j', 'list', 'table', 'inet', 'relay_select_bench']));
  const counters = {};
  for (const entry of ruleset.nftables ?? []) {
    const rule = entry.rule;
    if (rule?.comment === undefined) continue;
    const counter = rule.expr.find((expression) => expression.counter !== undefined)?.counter;
    counters[rule.comment] = counter?.packets ?? 0;
  }
  return counters;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function spread(values) {
  const present = values.filter((value) => typeof value === 'number');
  if (present.length === 0) return null;
  return { median: median(present), min: Math.min(...present), max: Math.max(...present) };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads the CLI's `probe --json`: the relays at the smallest measured distance are its choice. */
function judgeCli(stdout, truth, trueMinimum) {
  const report = JSON.parse(stdout);
  const measured = report.results.filter((result) => result.distance !== null);
  const best = measured.length === 0 ? null : Math.min(...measured.map((result) => result.distance));
  const nearest = measured.filter((result) => result.distance === best).map((result) => result.address);
  const wrongDistances = measured.filter((result) => truth.get(result.address) !== result.distance).length;
  return {
    chosen: nearest[0] ?? null,
    reportedDistance: best,
    nearestReported: nearest.length,
    right: nearest.length > 0 && nearest.every((address) => truth.get(address) === trueMinimum),
    distancesMeasured: measured.length,
    distancesWrong: wrongDistances,
    toolWallMs: report.wallMs,
    toolPacketsSent: report.packetsSent,
    tcpAttempts: report.tcpAttempts,
  };
}

/** netselect prints "score host" on its last line; with -vv one line per host before it. */
function judgeNetselect(stdout, stderr, truth, trueMinimum) {
  const lines = stdout.trim().split('\n').filter(Boolean);
  const last = lines.pop() ?? '';
  const match = /^\s*(\d+)\s+(\S+)\s*$/.exec(last);
  const chosen = match?.[2] ?? null;
  const perHost = [...`${stdout}\n${stderr}`.matchAll(/^(\S+)\s+(\d+) ms\s+(\d+) hops\s+(\d+)% ok/gm)];
  const hops = chosen === null ? undefined : perHost.find((entry) => entry[1] === chosen)?.[3];
  return {
    chosen,
    score: match ? Number(match[1]) : null,
    // netselect counts hops as the TTL that reached the host; as a router count that is hops − 1.
    reportedDistance: hops === undefined ? null : Number(hops) - 1,
    right: chosen !== null && truth.get(chosen) === trueMinimum,
    hostsReported: perHost.length,
    // Did it measure hops right even where it ranked by latency? Distances as router counts.
    distancesMeasured: perHost.filter((entry) => Number(entry[4]) > 0).length,
    distancesWrong: perHost.filter((entry) => Number(entry[4]) > 0 && Number(entry[3]) - 1 !== truth.get(entry[1])).length,
    smallestReportedDistance: perHost.length === 0 ? null : Math.min(...perHost.filter((entry) => Number(entry[4]) > 0).map((entry) => Number(entry[3]) - 1)),
  };
}

/**
 * Builds the lab, runs every contender `repetitions` times (interleaved), tears the lab down and
 * returns the figures; writeProbeResults() writes them.
 * @param {{ repetitions?: number, netselectTries?: number, netselectRepetitions?: number, log?: (line: string) => void, contenders?: string[] }} [options]
 */
export async function benchProbe(options = {}) {
  const repetitions = options.repetitions ?? 3;
  const netselectTries = options.netselectTries ?? null;
  // netselect at its defaults needs about three minutes for 1000 hosts (it binary-searches every host's
  // TTL and waits out rate-limited Time Exceeded replies), so by default it runs once, not `repetitions` times.
  const netselectRepetitions = Math.min(repetitions, options.netselectRepetitions ?? 1);
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  if (process.getuid?.() !== 0) throw new Error('the probe benchmark needs root (namespaces, raw sockets, nftables)');
  const { buildNetwork, listNamespaces } = await import('../dist/lab/netns/network.js');
  const { onTeardown } = await import('../dist/teardown.js');

  const tools = {
    nft: ensureDebianPackage('nft', 'nftables', log),
    netselect: ensureDebianPackage('netselect', 'netselect', log),
  };
  if (!tools.nft.available) throw new Error(`nftables is needed to count packets: ${tools.nft.reason}`);

  const prefix = `rsb${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const spec = createBenchSpec();
  const buildStartMs = performance.now();
  log(`building the lab (${spec.routers.length} routers, ${spec.hosts.length} hosts, prefix ${prefix}) …`);
  const lab = await buildNetwork(spec, { prefix });
  const labBuildMs = performance.now() - buildStartMs;
  const workDirectory = mkdtempSync(join(tmpdir(), 'relay-select-probe-bench-'));
  // On Ctrl-C the process teardown removes the relay files too, with the lab's namespaces.
  const forgetWorkDirectory = onTeardown(() => rmSync(workDirectory, { recursive: true, force: true }));
  const runs = [];
  let rateLimits;
  try {
    // Ground truth from the topology: every extra address of a relay host is one relay.
    const truth = new Map();
    for (const host of spec.hosts) {
      if (host.name === 'ep') continue;
      const distance = Number(host.name.replace(/^h[ab]?/, ''));
      for (const family of [4, 6]) for (const address of lab.extraAddressesOf(host.name, family)) truth.set(address, distance);
    }
    const addresses = shuffle([...truth.keys()], 20261122);
    const trueMinimum = Math.min(...truth.values());
    const trueNearest = addresses.filter((address) => truth.get(address) === trueMinimum);
    const ofFamily = (family) => addresses.filter((address) => address.includes(':') === (family === 6));
    const writeRelayFile = (name, list) => {
      const file = join(workDirectory, name);
      const lines = list.map((address) => (address.includes(':') ? `[${address}]` : address));
      writeFileSync(file, `# probe benchmark: ${list.length} relays\n${lines.join('\n')}\n`);
      return file;
    };
    const relayFiles = { both: writeRelayFile('relays-1000.dat', addresses), 4: writeRelayFile('relays-ipv4.dat', ofFamily(4)), 6: writeRelayFile('relays-ipv6.dat', ofFamily(6)) };
    const relayCounts = { both: { ipv4: ofFamily(4).length, ipv6: ofFamily(6).length }, 4: { ipv4: ofFamily(4).length, ipv6: 0 }, 6: { ipv4: 0, ipv6: ofFamily(6).length } };

    const rateLimitNames = ['net.ipv4.icmp_ratelimit', 'net.ipv4.icmp_ratemask', 'net.ipv4.icmp_msgs_per_sec', 'net.ipv4.icmp_msgs_burst', 'net.ipv6.icmp.ratelimit'];
    const routerSysctls = await lab.exec('r1', ['sysctl', ...rateLimitNames]);
    rateLimits = Object.fromEntries(
      routerSysctls.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('=').map((part) => part.trim()))
        .map(([key, value]) => [key.replace('net.ipv4.', '').replace('net.ipv6.icmp.', 'ipv6 '), Number(value)]),
    );
    await nft(lab, ['-f', '-'], NFT_RULESET);

    // Settings from defaults only: no config file in the temporary cwd, no RELAY_SELECT_* variables.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RELAY_SELECT_')));
    env.NO_COLOR = '1';
    const cli = join(root, 'bin', 'relay-select.js');
    const probeCli = (list, strategy) => [process.execPath, cli, 'probe', '--relays', relayFiles[list], '--strategy', strategy, '--json'];
    const contenders = [
      { name: 'inference', kind: 'cli', list: 'both', argv: probeCli('both', 'inference') },
      { name: 'rounds', kind: 'cli', list: 'both', argv: probeCli('both', 'rounds') },
      { name: 'inference IPv4 only', kind: 'cli', list: 4, argv: probeCli(4, 'inference') },
      { name: 'inference IPv6 only', kind: 'cli', list: 6, argv: probeCli(6, 'inference') },
      { name: 'rounds IPv4 only', kind: 'cli', list: 4, argv: probeCli(4, 'rounds') },
      { name: 'rounds IPv6 only', kind: 'cli', list: 6, argv: probeCli(6, 'rounds') },
      { name: 'netselect -I', kind: 'netselect', list: 4, argv: ['netselect', '-I', '-vv', '-m', '30', ...(netselectTries === null ? [] : ['-t', String(netselectTries)]), ...ofFamily(4)] },
    ].filter((contender) => options.contenders === undefined || options.contenders.includes(contender.name));

    for (let repetition = 1; repetition <= repetitions; repetition += 1) {
      for (const contender of contenders) {
        if (contender.kind === 'netselect' && (!tools.netselect.available || repetition > netselectRepetitions)) continue;
        await sleep(RATE_LIMIT_REFILL_MS);
        // nft 1.0.6 cannot reset anonymous rule counters: the run's count is the difference.
        const before = await readCounters(lab);
        const outcome = await execTimed(lab, 'ep', contender.argv, { cwd: workDirectory, env, timeoutMs: contender.kind === 'netselect' ? 420_000 : 120_000 });
        const after = await readCounters(lab);
        const counters = Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
        const run = {
          contender: contender.name,
          repetition,
          relays: relayCounts[contender.list],
          exitCode: outcome.code,
          wallMs: Math.round(outcome.wallMs),
          packetsSent: counters.echo_request_out + counters.echo_request6_out,
          packetsSentIpv4: counters.echo_request_out,
          packetsSentIpv6: counters.echo_request6_out,
          tcpSynSent: counters.tcp_syn_out,
          echoRepliesReceived: counters.echo_reply_in + counters.echo_reply6_in,
          timeExceededReceived: counters.time_exceeded_in + counters.time_exceeded6_in,
        };
        try {
          if (outcome.timedOut) throw new Error('timed out');
          if (contender.kind === 'cli') Object.assign(run, judgeCli(outcome.stdout, truth, trueMinimum));
          else Object.assign(run, judgeNetselect(outcome.stdout, outcome.stderr, truth, trueMinimum));
        } catch (error) {
          Object.assign(run, { chosen: null, right: false, error: `${error.message}; exit ${outcome.code}; stderr: ${outcome.stderr.trim().split('\n').slice(-3).join(' | ')}` });
        }
        runs.push(run);
        log(
          `  run ${repetition}/${repetitions} ${contender.name.padEnd(16)} ${String(run.packetsSent).padStart(6)} echo requests ` +
            `${(run.wallMs / 1000).toFixed(2).padStart(7)} s  chosen ${run.chosen ?? '-'} ${run.right ? 'right' : 'WRONG'}${run.error ? ` (${run.error})` : ''}`,
        );
      }
    }

    const summary = summarize(runs, contenders.map((contender) => contender.name));
    const netselectNote = tools.netselect.available
      ? `netselect -I -vv -m 30${netselectTries === null ? '' : ` -t ${netselectTries}`} (otherwise defaults: -t 10) with all ${addresses.length} addresses on one command line; ` +
        `${netselectRepetitions} run${netselectRepetitions === 1 ? '' : 's'} (it takes minutes per run)`
      : `not available: ${tools.netselect.reason}`;
    const result = {
      name: 'probe',
      date: new Date().toISOString(),
      node: process.version,
      kernel: release(),
      cpus: cpus().length,
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      lab: {
        prefix,
        relays: addresses.length,
        relaysByFamily: relayCounts.both,
        relaysByDistance: RELAYS_BY_DISTANCE,
        ipv6Share: IPV6_SHARE,
        trueMinimumDistance: trueMinimum,
        trueNearest,
        routers: spec.routers.length,
        hosts: spec.hosts.length,
        namespaces: spec.routers.length + spec.hosts.length,
        buildMs: Math.round(labBuildMs),
        routerIcmpSysctls: rateLimits,
        distanceUnit: 'routers between the endpoint and the relay (the TTL that reaches it is distance + 1)',
      },
      repetitions,
      pauseBetweenRunsMs: RATE_LIMIT_REFILL_MS,
      targets: TARGETS,
      tools: { ...tools, netselectNote },
      summary,
      verdict: judgeTargets(summary, addresses.length),
      runs,
    };
    return result;
  } finally {
    await lab.destroy();
    rmSync(workDirectory, { recursive: true, force: true });
    forgetWorkDirectory();
    const namespacesLeft = listNamespaces(prefix);
    if (namespacesLeft.length > 0) log(`WARNING: namespaces left behind: ${namespacesLeft.join(' ')}`);
    else log(`lab removed: no namespace with prefix ${prefix} left (ip netns list)`);
  }
}

const perRelay = (packets, relays) => (relays === 0 ? null : Math.round((packets / relays) * 1000) / 1000);

function summarize(runs, names) {
  const rows = names
    .map((name) => {
      const own = runs.filter((run) => run.contender === name);
      if (own.length === 0) return null;
      const { relays } = own[0];
      const packetsIpv4 = spread(own.map((run) => run.packetsSentIpv4));
      const packetsIpv6 = spread(own.map((run) => run.packetsSentIpv6));
      return {
        contender: name,
        runs: own.length,
        relays,
        packets: spread(own.map((run) => run.packetsSent)),
        packetsPerRelay: perRelay(median(own.map((run) => run.packetsSent)), relays.ipv4 + relays.ipv6),
        packetsIpv4,
        packetsIpv6,
        packetsPerRelayIpv4: perRelay(packetsIpv4.median, relays.ipv4),
        packetsPerRelayIpv6: perRelay(packetsIpv6.median, relays.ipv6),
        wallMs: spread(own.map((run) => run.wallMs)),
        toolWallMs: spread(own.map((run) => run.toolWallMs)),
        timeExceededReceived: spread(own.map((run) => run.timeExceededReceived)),
        chosen: [...new Set(own.map((run) => run.chosen ?? '-'))],
        reportedDistance: [...new Set(own.map((run) => run.reportedDistance ?? null))],
        rightRuns: own.filter((run) => run.right).length,
        distancesWrong: own.some((run) => run.distancesWrong !== undefined) ? Math.max(...own.map((run) => run.distancesWrong ?? 0)) : null,
        distancesMeasured: own.some((run) => run.distancesMeasured !== undefined) ? spread(own.map((run) => run.distancesMeasured)) : null,
        errors: own.filter((run) => run.error).map((run) => run.error),
      };
    })
    .filter(Boolean);
  const baseline = rows.find((row) => row.contender === 'rounds');
  for (const row of rows) {
    row.packetsRatio = baseline ? Math.round((row.packets.median / baseline.packets.median) * 1000) / 1000 : null;
    row.timeRatio = baseline ? Math.round((row.wallMs.median / baseline.wallMs.median) * 1000) / 1000 : null;
  }
  return rows;
}

function judgeTargets(summary, relayCount) {
  const inference = summary.find((row) => row.contender === 'inference');
  const rounds = summary.find((row) => row.contender === 'rounds');
  if (!inference || !rounds) return null;
  const speedup = rounds.wallMs.median / inference.wallMs.median;
  const ratio = inference.packetsPerRelayIpv6 / inference.packetsPerRelayIpv4;
  return {
    packets: { measuredMax: inference.packets.max, limit: TARGETS.inferencePacketsPerRelay * relayCount, met: inference.packets.max <= TARGETS.inferencePacketsPerRelay * relayCount },
    speed: { speedupMedian: Math.round(speedup * 100) / 100, required: TARGETS.speedupOverRounds, met: speedup >= TARGETS.speedupOverRounds },
    right: { rightRuns: inference.rightRuns, runs: inference.runs, met: inference.rightRuns === inference.runs },
    ipv6: {
      packetsPerRelayIpv4: inference.packetsPerRelayIpv4,
      packetsPerRelayIpv6: inference.packetsPerRelayIpv6,
      ratio: Math.round(ratio * 1000) / 1000,
      within: TARGETS.ipv6PacketsPerRelayWithin,
      met: Math.abs(ratio - 1) <= TARGETS.ipv6PacketsPerRelayWithin,
    },
  };
}

const seconds = (ms) => (ms / 1000).toFixed(2);

/** The markdown table of the summary (also printed by bench/run.mjs). */
export function renderProbeTable(result) {
  const header = ['contender', 'relays (IPv4 + IPv6)', 'echo requests (median, min..max)', 'IPv4 / IPv6 echo requests', 'per relay', 'per IPv4 / IPv6 relay', 'packets ratio', 'wall s (median, min..max)', 'time ratio', 'Time Exceeded received', 'distances reported (wrong)', 'chosen (distance)', 'right'];
  const fixed = (value) => (value === null ? '–' : value.toFixed(3));
  const lines = result.summary.map((row) => [
    row.contender,
    `${row.relays.ipv4} + ${row.relays.ipv6}`,
    `${row.packets.median} (${row.packets.min}..${row.packets.max})`,
    `${row.packetsIpv4.median} / ${row.packetsIpv6.median}`,
    row.packetsPerRelay.toFixed(3),
    `${fixed(row.packetsPerRelayIpv4)} / ${fixed(row.packetsPerRelayIpv6)}`,
    row.packetsRatio === null ? '' : `${row.packetsRatio.toFixed(3)}×`,
    `${seconds(row.wallMs.median)} (${seconds(row.wallMs.min)}..${seconds(row.wallMs.max)})`,
    row.timeRatio === null ? '' : `${row.timeRatio.toFixed(3)}×`,
    row.timeExceededReceived === null ? '' : String(row.timeExceededReceived.median),
    row.distancesMeasured === null ? 'nearest only' : `${row.distancesMeasured.median} (${row.distancesWrong})`,
    `${row.chosen.join(', ')} (${row.reportedDistance.map((value) => (value === null ? '?' : value)).join(', ')})`,
    `${row.rightRuns}/${row.runs}`,
  ]);
  if (!result.tools.netselect.available) lines.push(['netselect -I', '', 'not available', '', '', '', '', '', '', '', '', result.tools.netselect.reason, '']);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function renderProbeMarkdown(result) {
  const verdict = result.verdict;
  const lines = [
    '# probe',
    '',
    `One namespace lab, ${result.lab.relays} relay addresses (${result.lab.relaysByFamily.ipv4} IPv4, ${result.lab.relaysByFamily.ipv6} IPv6; ${result.lab.namespaces} namespaces, built in ${seconds(result.lab.buildMs)} s), nearest`,
    `${result.lab.trueMinimumDistance} routers away (${result.lab.trueNearest.length} relays there). Relays per distance: ` +
      Object.entries(result.lab.relaysByDistance)
        .map(([distance, count]) => `${distance}: ${count}`)
        .join(', ') +
      '.',
    `Endpoint \`ep\` on r1; core routers r1–r3, then two WAN branches of routers 4–12; relay addresses are /32s and /128s`,
    `on relay hosts hanging off the routers (\`extraAddresses\`, \`extraIpv6Addresses\`; ${Math.round(result.lab.ipv6Share * 100)} % IPv6 at every distance),`,
    'listed in a shuffled order. Router ICMP rate limits at',
    `Linux defaults (${Object.entries(result.lab.routerIcmpSysctls ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(', ')}).`,
    '',
    `Every contender runs inside the endpoint namespace, ${result.repetitions} times, interleaved, each run after a`,
    `${seconds(result.pauseBetweenRunsMs)} s pause so routers start with full Time Exceeded buckets. Echo requests are counted per family by`,
    'nftables counters on the endpoint\'s output hook (read before and after each run); wall time is the whole process',
    '(Node start-up included for relay-select). Ratios are medians against `rounds` (the whole list) of this run.',
    'Distance = routers between endpoint and relay.',
    '',
    renderProbeTable(result),
    '',
    '- `inference`, `rounds`: `node bin/relay-select.js probe --relays FILE --strategy X --json`, default settings',
    '  (probe.ratePps 1000, burst 50, timeoutMs 1000, retries 1, verifyMargin 2, transport auto: raw sockets here, as',
    '  root in a fresh namespace whose ping_group_range is closed), on the whole list; `… IPv4 only` / `… IPv6 only` on',
    '  that family\'s part of it, which gives the time per family. Chosen = the relays at the smallest reported distance',
    '  (all must be truly nearest for "right").',
    `- \`netselect -I\` (IPv4 part): ${result.tools.netselectNote}; chosen = the host on its last line (best score).`,
    '',
  ];
  if (verdict) {
    lines.push(
      '## Targets (inference)',
      '',
      `- Packets ≤ ${result.targets.inferencePacketsPerRelay} × N = ${verdict.packets.limit}: worst run ${verdict.packets.measuredMax} — ${verdict.packets.met ? 'met' : 'MISSED'}.`,
      `- ≥ ${verdict.speed.required}× faster than rounds: ${verdict.speed.speedupMedian}× (median wall time) — ${verdict.speed.met ? 'met' : 'MISSED'}.`,
      `- Right relay in every run: ${verdict.right.rightRuns}/${verdict.right.runs} — ${verdict.right.met ? 'met' : 'MISSED'}.`,
      `- IPv6 echo requests per IPv6 relay within ${Math.round(verdict.ipv6.within * 100)} % of IPv4's (same run, whole list): ${verdict.ipv6.packetsPerRelayIpv6} vs ${verdict.ipv6.packetsPerRelayIpv4} ` +
        `(ratio ${verdict.ipv6.ratio}) — ${verdict.ipv6.met ? 'met' : 'MISSED'}.`,
    );
    const inference = result.summary.find((row) => row.contender === 'inference');
    if (inference?.distancesWrong !== null && inference?.distancesWrong !== undefined) {
      lines.push(`- Distances of all ${result.lab.relays} relays exact (inference): ${inference.distancesWrong === 0 ? 'yes' : `no, ${inference.distancesWrong} wrong in the worst run`}.`);
    }
    lines.push('');
  }
  lines.push('## Observations', '', ...observe(result), '');
  const errors = result.runs.filter((run) => run.error);
  if (errors.length > 0) {
    lines.push('## Errors', '', ...errors.map((run) => `- ${run.contender} run ${run.repetition}: ${run.error}`), '');
  }
  lines.push(`${result.date}, Node ${result.node}, Linux ${result.kernel}, ${result.cpus} CPUs, load average ${result.loadAverage1m} at the end.`, '');
  return lines.join('\n');
}

/** Plain statements derived from this run's figures (nothing here is hard-coded). */
function observe(result) {
  const row = (name) => result.summary.find((entry) => entry.contender === name);
  const notes = [];
  const inference = row('inference');
  const rounds = row('rounds');
  const netselect = row('netselect -I');
  const toolMs = (entry) => entry?.toolWallMs?.median;
  if (inference && toolMs(inference) !== undefined) {
    const pacingMs = Math.max(0, (inference.packets.median - 50) / 1000) * 1000;
    notes.push(
      `- inference: ${inference.packets.median} echo requests = ${result.lab.relays} at the largest TTL + ${inference.packets.median - result.lab.relays} ` +
        `TTL-limited verification echoes for the relays inferred within verifyMargin of the best. Its own wall time ` +
        `(${toolMs(inference)} ms, from --json) is mostly pacing: ${inference.packets.median} packets at 1000 pps with a burst of 50 take about ${Math.round(pacingMs)} ms.`,
    );
  }
  if (rounds && toolMs(rounds) !== undefined) {
    const ladderTtls = result.lab.trueMinimumDistance + 1;
    notes.push(
      `- rounds: ${rounds.packets.median} echo requests (${result.lab.relays} per rung, TTL 1..${ladderTtls}); only ${rounds.timeExceededReceived?.median} Time Exceeded ` +
        `came back (routers rate-limit them), so each rung costs ${(result.lab.relays / 1000).toFixed(1)} s of pacing plus the 1000 ms timeout of its silent relays: ${toolMs(rounds)} ms.`,
    );
  }
  for (const family of ['IPv4', 'IPv6']) {
    const familyInference = row(`inference ${family} only`);
    const familyRounds = row(`rounds ${family} only`);
    if (!familyInference || !familyRounds) continue;
    const relays = familyInference.relays.ipv4 + familyInference.relays.ipv6;
    notes.push(
      `- ${family} alone (${relays} relays): inference ${familyInference.packets.median} echo requests (${familyInference.packetsPerRelay} per relay) in ${seconds(familyInference.wallMs.median)} s, ` +
        `rounds ${familyRounds.packets.median} (${familyRounds.packetsPerRelay} per relay) in ${seconds(familyRounds.wallMs.median)} s: ` +
        `${(familyRounds.wallMs.median / familyInference.wallMs.median).toFixed(1)}× faster and ${(familyRounds.packets.median / familyInference.packets.median).toFixed(1)}× fewer packets.`,
    );
  }
  if (netselect) {
    const run = result.runs.find((entry) => entry.contender === 'netselect -I' && !entry.error);
    if (run) {
      notes.push(
        `- netselect -I measured ${run.distancesMeasured} hop counts (${run.distancesWrong} wrong; smallest ${run.smallestReportedDistance}), ` +
          `but it picks the best score, which it builds from the round-trip time: lab round trips are well below 1 ms, its best score was ${run.score}, ` +
          `hosts tie on it whatever their hop count, and it picked ${run.chosen}, ${run.reportedDistance} routers away. It sent ${run.packetsSent} echo requests and took ${seconds(run.wallMs)} s ` +
          `(it searches every host's TTL with TTL-limited probes, whose Time Exceeded replies the routers rate-limit: ${run.timeExceededReceived} came back).`,
      );
    }
  }
  return notes;
}

export function writeProbeResults(result) {
  mkdirSync(resultsDirectory, { recursive: true });
  writeFileSync(join(resultsDirectory, 'probe.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(resultsDirectory, 'probe.md'), renderProbeMarkdown(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const index = process.argv.indexOf('--repetitions');
  const result = await benchProbe({ repetitions: index === -1 ? 3 : Number(process.argv[index + 1]) });
  writeProbeResults(result);
  process.stdout.write(`${renderProbeTable(result)}\n`);
}
