// Child process of test/helpers/probe-engine.ts: reads jobs (JSON) from stdin, runs them with the
// built probe engine of the package whose root is argv[2] (dist/probe), prints the results (JSON) on stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const engine = await import(pathToFileURL(join(process.argv[2], 'dist', 'probe', 'index.js')).href);
const jobs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const job of jobs) {
  try {
    if (job.kind === 'probe') {
      const replies = [];
      const options = { ...job.options, onReply: (event) => replies.push({ address: event.address, kind: event.kind, ttl: event.ttl }) };
      const deps = job.identifier === undefined ? {} : { identifier: job.identifier };
      const report = await engine.probeTargets(job.targets, options, deps);
      results.push({ kind: 'probe', report, replies });
    } else if (job.kind === 'echo') {
      results.push({ kind: 'echo', ...(await echoOnce(job)) });
    } else if (job.kind === 'open-socket') {
      try {
        engine.createRawTransport({ families: [4] }).close();
        results.push({ kind: 'open-socket', code: null });
      } catch (error) {
        results.push({ kind: 'open-socket', code: error.code ?? null });
      }
    }
  } catch (error) {
    results.push({ kind: 'error', code: error.code ?? null, message: String(error.stack ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));

async function echoOnce({ address, family, ttl }) {
  const transport = engine.createRawTransport({ families: [family] });
  const identifier = 0x5a5a;
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ replyTtl: null, source: null }), 2000);
      transport.onPacket((packet) => {
        if (packet.message.kind === 'echo-reply' && packet.message.identifier === identifier && packet.message.sequence === 1) {
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
