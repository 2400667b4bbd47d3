// Child process of test/helpers/probe-engine.ts: reads jobs (JSON) from stdin, runs them with the
// built probe engine of the package whose root is argv[2] (dist/probe), prints the results (JSON) on stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const engine = await import(pathToFileURL(join(process.argv[2], 'dist', 'probe', 'index.js')).href);
const jobs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
// Linux turns receive timestamps on for the whole system asynchronously (a work queue flips a static key)
// when the first socket asks, and off when the last closes; a reply that lands before the flip is stamped
// when it is read. Each job opens and closes its own transport, so for the busy-loop jobs one stays open
// for the whole run, and the jobs start once its own echoes show kernel receive times.
const busyJob = jobs.find((job) => job.busyMs !== undefined);
const timestampKeeper = busyJob === undefined ? undefined : await keepTimestampsOn(busyJob);
for (const job of jobs) {
  try {
    if (job.kind === 'probe') {
      results.push({ kind: 'probe', ...(await probe(job)) });
    } else if (job.kind === 'echo') {
      results.push({ kind: 'echo', ...(await echoOnce(job)) });
    } else if (job.kind === 'open-socket') {
      try {
        engine.openIcmpTransport({ kind: job.transport ?? 'raw', families: [4] }).close();
        results.push({ kind: 'open-socket', code: null, message: null });
      } catch (error) {
        results.push({
          kind: 'open-socket',
          code: error.code ?? null,
          message: `${error.message} — ${error.hint ?? ''}`,
        });
      }
    }
  } catch (error) {
    results.push({ kind: 'error', code: error.code ?? null, message: String(error.stack ?? error) });
  }
}
timestampKeeper?.close();
process.stdout.write(JSON.stringify(results));

async function probe(job) {
  const replies = [];
  let firstSentAtMs = null;
  let heardAfterMs = null;
  const options = {
    ...job.options,
    onReply: (event) => {
      replies.push({ address: event.address, kind: event.kind, ttl: event.ttl, rttMs: event.rttMs });
      if (firstSentAtMs !== null && heardAfterMs === null) heardAfterMs = performance.now() - firstSentAtMs;
    },
    onProbeSent: () => {
      if (job.busyMs === undefined || firstSentAtMs !== null) return;
      firstSentAtMs = performance.now();
      // Queued now, run right after the send call returns (the send is synchronous): the answer comes
      // back while the event loop is blocked.
      queueMicrotask(() => {
        const endMs = performance.now() + job.busyMs;
        while (performance.now() < endMs);
      });
    },
  };
  const deps = job.identifier === undefined ? {} : { identifier: job.identifier };
  const report = await engine.probeTargets(job.targets, options, deps);
  return { report, replies, heardAfterMs };
}

async function echoOnce({ address, family, ttl, transport: kind }) {
  const transport = engine.openIcmpTransport({ kind: kind ?? 'raw', families: [family] });
  const identifier = transport.fixedIdentifier?.(family) ?? 0x5a5a;
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ replyTtl: null, source: null }), 2000);
      transport.onPacket((packet) => {
        if (
          packet.message.kind === 'echo-reply' &&
          packet.message.identifier === identifier &&
          packet.message.sequence === 1
        ) {
          clearTimeout(timer);
          resolve({ replyTtl: packet.message.replyTtl, source: packet.source });
        }
      });
      transport.send(address, family, ttl, identifier, 1);
    });
  } finally {
    transport.close();
  }
}

async function keepTimestampsOn(job) {
  const { family, address } = job.targets[0];
  const keeper = engine.openIcmpTransport({ kind: job.options.transport ?? 'auto', families: [family] });
  const identifier = keeper.fixedIdentifier?.(family) ?? 0x7a7a;
  for (let sequence = 1; sequence <= 200; sequence += 1) {
    const heard = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 1000);
      const stop = keeper.onPacket((packet) => {
        if (
          packet.message.kind !== 'echo-reply' ||
          packet.message.sequence !== sequence ||
          packet.message.identifier !== identifier
        )
          return;
        clearTimeout(timer);
        stop();
        resolve(packet);
      });
    });
    const { sentAtNs } = await keeper.send(address, family, 64, identifier, sequence);
    // Block 5 ms: a reply stamped on arrival shows a round trip well below that, one stamped when read does not.
    const endMs = performance.now() + 5;
    while (performance.now() < endMs);
    const packet = await heard;
    if (packet !== null && packet.receivedAtNs !== undefined && Number(packet.receivedAtNs - sentAtNs) / 1e6 < 4)
      return keeper;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the kernel never stamped a reply on arrival (SO_TIMESTAMPNS)');
}
