#!/usr/bin/env node
// Baseline for bench/probe-bench.mjs: the classic naive ladder built on net-ping. Every pending relay is
// pinged at TTL 1, then 2, 3, … (one net-ping session per TTL round, closed before the next, because
// sessions in one process steal each other's replies); the first round in which any relay answers with an
// echo reply ends the ladder, and its answerers are the nearest.
//
// Usage: node bench/net-ping-ladder.cjs FILE [--timeout-ms 1000] [--retries 0] [--max-ttl 30]
// FILE holds one IPv4 address per line. Prints one JSON line:
// { nearest, nearestTtl, answered, rounds, requests, wallMs }.
'use strict';
const { readFileSync } = require('node:fs');
const ping = require('net-ping');

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

const file = process.argv[2];
const timeoutMs = option('--timeout-ms', 1000);
const retries = option('--retries', 0);
const maxTtl = option('--max-ttl', 30);
const addresses = readFileSync(file, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);

/**
 * The open session. raw-socket's native wrapper holds no reference to itself: a session nothing in
 * JavaScript refers to can be collected mid-round, and Node then exits 0 with the round unfinished.
 */
let liveSession = null;

/** Pings every address at one TTL; resolves with the addresses that answered with an echo reply. */
function pingRound(ttl) {
  // net-ping treats ttl 0 as "unset" (default 128), so the ladder starts at 1.
  const session = ping.createSession({ ttl, timeout: timeoutMs, retries, packetSize: 16 });
  liveSession = session;
  return new Promise((resolve) => {
    const answered = [];
    let pending = addresses.length;
    for (const address of addresses) {
      session.pingHost(address, (error) => {
        if (!error) answered.push(address);
        pending -= 1;
        if (pending === 0) {
          session.close();
          liveSession = null;
          resolve(answered);
        }
      });
    }
  });
}

async function main() {
  const startMs = performance.now();
  let requests = 0;
  for (let ttl = 1; ttl <= maxTtl; ttl += 1) {
    const answered = await pingRound(ttl);
    requests += addresses.length;
    if (answered.length > 0) {
      process.stdout.write(
        `${JSON.stringify({ nearest: answered[0], nearestTtl: ttl, answered, rounds: ttl, requests, wallMs: performance.now() - startMs })}\n`,
      );
      return;
    }
  }
  process.stdout.write(`${JSON.stringify({ nearest: null, nearestTtl: null, answered: [], rounds: maxTtl, requests, wallMs: performance.now() - startMs })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exitCode = 1;
});
