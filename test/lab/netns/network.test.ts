import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildNetwork,
  destroyNamespacesWithPrefix,
  listNamespaces,
  type LabNetwork,
} from '../../../src/lab/netns/network.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { isRoot, NOT_ROOT_REASON } from '../../helpers/root.js';

/** A node script: TCP connect time to host:port, or "refused"/"timeout". */
const CONNECT_JS = `
const net = require('node:net');
const [host, port, waitMs = '3000'] = process.argv.slice(1);
const started = process.hrtime.bigint();
const socket = net.connect({ host, port: Number(port) });
const timer = setTimeout(() => { console.log('timeout'); process.exit(0); }, Number(waitMs));
socket.on('connect', () => { console.log('connected ' + Number(process.hrtime.bigint() - started) / 1e6); socket.destroy(); clearTimeout(timer); });
socket.on('error', (error) => { console.log(error.code); clearTimeout(timer); });
`;

describe.skipIf(!isRoot)(`buildNetwork (real namespaces)${isRoot ? '' : ` — skipped: ${NOT_ROOT_REASON}`}`, () => {
  let lab: LabNetwork;

  beforeAll(async () => {
    lab = await buildNetwork({
      ipv6: true,
      routers: ['r1', 'r2'],
      hosts: [
        { name: 'p', attach: 'r1' },
        { name: 'near', attach: 'r1', tcpListen: [52311] },
        { name: 'slow', attach: 'r2', delayMs: 40, tcpListen: [52311], extraAddresses: 3 },
        { name: 'quiet', attach: 'r2', dropsIcmp: true, tcpListen: [52311] },
        { name: 'lossy', attach: 'r1', lossPercent: 100, tcpListen: [52311] },
      ],
      links: [{ from: 'r1', to: 'r2' }],
    });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('creates one namespace per node under a run-unique prefix', () => {
    expect(lab.prefix).toMatch(/^rs[0-9a-z]+$/);
    expect(listNamespaces(lab.prefix).sort()).toEqual(
      ['lossy', 'near', 'p', 'quiet', 'r1', 'r2', 'slow'].map((node) => `${lab.prefix}-${node}`),
    );
    expect(lab.namespaceOf('r1')).toBe(`${lab.prefix}-r1`);
  });

  it('addresses links from 198.18.0.0/15 and 2001:db8::/32 and routes across routers', async () => {
    expect(lab.addressOf('slow')).toMatch(/^198\.18\./);
    expect(lab.addressOf('slow', 6)).toMatch(/^2001:db8:/);
    for (const address of [
      lab.addressOf('near'),
      lab.addressOf('slow'),
      lab.addressOf('slow', 6),
      lab.extraAddressesOf('slow')[2]!,
    ]) {
      const result = await lab.exec('p', [process.execPath, '-e', CONNECT_JS, address, '52311']);
      expect(result.stdout, `${address}: ${result.stderr}`).toMatch(/^connected/);
    }
  });

  it('enables forwarding in routers only', async () => {
    const router = await lab.exec('r1', ['cat', '/proc/sys/net/ipv4/ip_forward']);
    const host = await lab.exec('p', ['cat', '/proc/sys/net/ipv4/ip_forward']);
    expect([router.stdout.trim(), host.stdout.trim()]).toEqual(['1', '0']);
  });

  it('delays the shaped link in both directions (netem or the userspace forwarder)', async () => {
    expect(['netem', 'userspace']).toContain(lab.delayMode);
    const slow = await lab.exec('p', [process.execPath, '-e', CONNECT_JS, lab.addressOf('slow'), '52311']);
    const near = await lab.exec('p', [process.execPath, '-e', CONNECT_JS, lab.addressOf('near'), '52311']);
    const slowMs = Number(slow.stdout.split(' ')[1]);
    const nearMs = Number(near.stdout.split(' ')[1]);
    expect(slowMs).toBeGreaterThanOrEqual(78);
    expect(slowMs).toBeLessThan(400);
    expect(nearMs).toBeLessThan(40);
  });

  it('drops frames on a lossy link', async () => {
    const lossy = await lab.exec('p', [process.execPath, '-e', CONNECT_JS, lab.addressOf('lossy'), '52311', '600']);
    expect(lossy.stdout.trim()).toBe('timeout');
  });

  it('turns off ICMP echo in a dropsIcmp host', async () => {
    const quiet = await lab.exec('quiet', ['cat', '/proc/sys/net/ipv4/icmp_echo_ignore_all']);
    const near = await lab.exec('near', ['cat', '/proc/sys/net/ipv4/icmp_echo_ignore_all']);
    expect([quiet.stdout.trim(), near.stdout.trim()]).toEqual(['1', '0']);
  });

  it('leaves the root namespace without lab devices', () => {
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
    expect(links).not.toMatch(/\be\d+[@:]/);
  });

  it('kills spawned programs and deletes every namespace on destroy, twice without harm', async () => {
    const other = await buildNetwork({ routers: ['r'], hosts: [{ name: 'h', attach: 'r' }] });
    const sleeper = other.spawn('h', ['sleep', '600']);
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    await other.destroy();
    await other.destroy();
    await exited;
    expect(listNamespaces(other.prefix)).toEqual([]);
  });

  it('removes leftovers by prefix', async () => {
    const other = await buildNetwork({ routers: ['r'], hosts: [{ name: 'h', attach: 'r' }] });
    expect(await destroyNamespacesWithPrefix(other.prefix)).toHaveLength(2);
    expect(listNamespaces(other.prefix)).toEqual([]);
    await other.destroy();
  });
});

describe.skipIf(!isRoot)(`lab teardown when the process ends${isRoot ? '' : ` — skipped: ${NOT_ROOT_REASON}`}`, () => {
  it.each([
    ['SIGTERM', 'SIGTERM'],
    ['SIGINT', 'SIGINT'],
    ['exit', null],
  ] as const)('removes the namespaces on %s', async (how, expectedSignal) => {
    const networkModule = pathToFileURL(join(REPO_ROOT, 'dist', 'lab', 'netns', 'network.js')).href;
    const script = `
      const { buildNetwork } = await import(${JSON.stringify(networkModule)});
      const lab = await buildNetwork({ routers: ['r'], hosts: [{ name: 'h', attach: 'r', delayMs: 5 }] });
      lab.spawn('h', ['sleep', '600']);
      process.stdout.write(lab.prefix + '\\n');
      if (${JSON.stringify(how)} === 'exit') setTimeout(() => process.exit(3), 50);
      else setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
    const prefix = await new Promise<string>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
    );
    expect(listNamespaces(prefix)).toHaveLength(2);
    if (how !== 'exit') child.kill(how);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    expect(signal).toBe(expectedSignal);
    if (how === 'exit') expect(code).toBe(3);
    expect(listNamespaces(prefix)).toEqual([]);
  });
});
