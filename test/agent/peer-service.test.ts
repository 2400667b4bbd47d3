/**
 * The peer protocol between several agents on one link, with a fake clock and an in-memory link in
 * place of the multicast socket: election at start, a leader lost and replaced, leases, the table a
 * follower waits for, and messages refused (wrong key, replayed, oversized). The real multicast between
 * real processes is test/lab/agent-peers.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_PEER_MESSAGE_BYTES } from '../../src/agent/peer-message.js';
import type { OpenPeerSocketOptions, PeerSocket } from '../../src/agent/peer-socket.js';
import { startPeerService, type PeerService } from '../../src/agent/peer-service.js';
import type { Clock } from '../../src/clock.js';
import { DIGEST, KEY, OTHER_KEY, id } from './builders.js';

const LEASE_MS = 3000;
const GROUP = id('group');
/** Follows vi.useFakeTimers(): Date.now is fake, so both clocks move only with the timers. */
const fakeTimerClock: Clock = { now: () => new Date(Date.now()), nowMs: () => Date.now() };

/** Every datagram sent reaches every other open socket of the link, as multicast on one segment does. */
function createMemoryLink() {
  const open = new Set<OpenPeerSocketOptions>();
  const sent: Array<{ datagram: Buffer; from: string }> = [];
  const deliver = (datagram: Buffer, from: string, except?: OpenPeerSocketOptions): void => {
    for (const receiver of [...open])
      if (receiver !== except)
        queueMicrotask(() => open.has(receiver) && receiver.onDatagram(Buffer.from(datagram), from));
  };
  return {
    sent,
    deliver,
    openSocket(options: OpenPeerSocketOptions): Promise<PeerSocket> {
      open.add(options);
      return Promise.resolve({
        endpoint: 'memory',
        send(datagram) {
          if (!open.has(options)) return;
          sent.push({ datagram, from: options.link.address });
          deliver(datagram, options.link.address, options);
        },
        close() {
          open.delete(options);
        },
      });
    },
  };
}

interface Agent {
  service: PeerService;
  address: string;
  tablesNeeded: string[];
}

describe('the peer service on one link', () => {
  let link: ReturnType<typeof createMemoryLink>;
  let agents: Agent[];

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2024-01-01T00:00:00Z') });
    link = createMemoryLink();
    agents = [];
  });

  afterEach(() => {
    for (const agent of agents) agent.service.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });

  async function start(tag: string, options: { key?: Buffer; answerRequests?: boolean } = {}): Promise<Agent> {
    const address = `198.18.255.${agents.length + 2}`;
    let nonce = 0;
    const agent: Agent = { service: undefined!, address, tablesNeeded: [] };
    agent.service = await startPeerService(
      {
        key: options.key ?? KEY,
        link: { family: 4, interfaceName: 's0', address },
        port: 52312,
        leaseMs: LEASE_MS,
        group: GROUP,
        onTableNeeded: (pool) => {
          agent.tablesNeeded.push(pool);
          if (options.answerRequests === false) return;
          const nowMs = Date.now();
          agent.service.publishPool(
            {
              name: pool,
              relayCount: 2,
              measuredAtMs: nowMs,
              validUntilMs: nowMs + agent.service.tableValidityMs,
              entries: [
                { key: '198.19.0.1:52311', address: '198.19.0.1', distance: 1, rttMs: 0.2, method: 'echo-ttl' },
              ],
            },
            DIGEST,
            [],
          );
        },
        onEvent: () => undefined,
      },
      {
        clock: fakeTimerClock,
        openSocket: (socketOptions) => link.openSocket(socketOptions),
        randomId: () => (nonce++ === 0 ? id(tag) : id(`${tag}#${nonce}`)),
        random: () => 0.5,
      },
    );
    agents.push(agent);
    return agent;
  }

  const views = () => agents.map((agent) => ({ address: agent.address, ...agent.service.view() }));

  it('elects one leader among twelve agents started together, which all of them name', async () => {
    for (let index = 0; index < 12; index += 1) await start(`m${String(index).padStart(2, '0')}`);
    await vi.advanceTimersByTimeAsync(2000);
    const seen = views();
    const leaders = seen.filter((view) => view.role === 'leader');
    expect(leaders.map((view) => view.address)).toEqual(['198.18.255.2']);
    expect(seen.every((view) => view.leader === '198.18.255.2' && view.members === 12 && view.rejected === 0)).toBe(
      true,
    );
  });

  it('replaces a leader killed without a word within two leases, and every survivor agrees', async () => {
    for (let index = 0; index < 5; index += 1) await start(`m${index}`);
    await vi.advanceTimersByTimeAsync(2000);
    const [leader, ...survivors] = agents;
    expect(leader!.service.view().role).toBe('leader');
    leader!.service.close();
    agents = survivors;
    const killedAtMs = Date.now();
    const agreed = (): boolean => {
      const seen = views();
      const leaders = seen.filter((view) => view.role === 'leader');
      return leaders.length === 1 && seen.every((view) => view.leader === leaders[0]!.address && view.members === 4);
    };
    while (!agreed() && Date.now() - killedAtMs <= 3 * LEASE_MS) await vi.advanceTimersByTimeAsync(100);
    const failoverMs = Date.now() - killedAtMs;
    expect(agreed()).toBe(true);
    expect(failoverMs).toBeLessThanOrEqual(2 * LEASE_MS);
    // Not before the dead leader's lease ran out: a leader that only missed a heartbeat keeps its place.
    expect(failoverMs).toBeGreaterThan(LEASE_MS - LEASE_MS / 3);
    expect(views().find((view) => view.role === 'leader')!.address).toBe('198.18.255.3');
  });

  it('keeps the incumbent when an agent with a smaller id joins later', async () => {
    await start('m5');
    await start('m7');
    await vi.advanceTimersByTimeAsync(2000);
    const newcomer = await start('m0');
    await vi.advanceTimersByTimeAsync(2 * LEASE_MS);
    expect(newcomer.service.view()).toMatchObject({ role: 'follower', leader: agents[0]!.address, members: 3 });
    expect(agents[0]!.service.view().role).toBe('leader');
  });

  it("hands a follower the leader's measurement of the pool it asks for", async () => {
    const leader = await start('m1');
    const follower = await start('m2');
    await vi.advanceTimersByTimeAsync(2000);
    const answer = follower.service.awaitLeaderTable('all', Date.now() + LEASE_MS);
    await vi.advanceTimersByTimeAsync(100);
    await expect(answer).resolves.toMatchObject({
      kind: 'table',
      from: leader.address,
      table: { relayListDigest: DIGEST, pools: [{ name: 'all', relayCount: 2 }] },
    });
    expect(leader.tablesNeeded).toEqual(['all']);
    // Fresh now: asked again, the leader sends what it has without measuring anew.
    const again = follower.service.awaitLeaderTable('all', Date.now() + LEASE_MS);
    await vi.advanceTimersByTimeAsync(10);
    await expect(again).resolves.toMatchObject({ kind: 'table' });
    expect(leader.tablesNeeded).toEqual(['all']);
    // The leader itself is told to lead.
    await expect(leader.service.awaitLeaderTable('all', Date.now() + LEASE_MS)).resolves.toEqual({ kind: 'lead' });
  });

  it('lets a follower wait no longer than the deadline (one lease) for a table that never comes', async () => {
    await start('m1', { answerRequests: false });
    const follower = await start('m2');
    await vi.advanceTimersByTimeAsync(2000);
    const askedAtMs = Date.now();
    let settledAtMs = 0;
    const answer = follower.service.awaitLeaderTable('all', askedAtMs + LEASE_MS).then((value) => {
      settledAtMs = Date.now();
      return value;
    });
    await vi.advanceTimersByTimeAsync(LEASE_MS + 100);
    await expect(answer).resolves.toEqual({ kind: 'timeout' });
    expect(settledAtMs - askedAtMs).toBe(LEASE_MS);
  });

  it('ignores and counts an agent with another key; it stays alone', async () => {
    await start('m1');
    await start('m2');
    const intruder = await start('m0', { key: OTHER_KEY });
    await vi.advanceTimersByTimeAsync(2 * LEASE_MS);
    const [first, second] = agents;
    for (const agent of [first!, second!]) {
      const view = agent.service.view();
      expect(view.members).toBe(2);
      expect(view.rejected).toBeGreaterThan(0);
      expect(view.rejectedBy).toEqual({ 'bad-mac': view.rejected });
    }
    expect(first!.service.view().role).toBe('leader');
    expect(intruder.service.view()).toMatchObject({ role: 'alone', members: 1 });
    expect(intruder.service.view().rejected).toBeGreaterThan(0);
  });

  it('counts a replayed datagram and an oversized one, and acts on neither', async () => {
    const leader = await start('m1');
    const follower = await start('m2');
    await vi.advanceTimersByTimeAsync(2000);
    const captured = link.sent.filter((entry) => entry.from === leader.address).at(-1)!;
    link.deliver(captured.datagram, leader.address);
    link.deliver(Buffer.alloc(MAX_PEER_MESSAGE_BYTES + 1), '198.18.255.99');
    await vi.advanceTimersByTimeAsync(10);
    expect(follower.service.view().rejectedBy).toEqual({ replay: 1, oversized: 1 });
    expect(follower.service.view().members).toBe(2);
  });
});
