/**
 * The replay defence of the peer protocol (DESIGN §13): a message is accepted once, and only while its
 * timestamp lies within `windowMs` of our clock. Nonces are remembered exactly as long as the window
 * would accept their message again, so memory stays bounded by the rate of messages. Pure: the caller
 * passes `nowMs`.
 */

type ReplayVerdict = 'ok' | 'stale' | 'replay' | 'flood';

interface ReplayWindowOptions {
  /** How far a message's timestamp may lie from our clock, either way (clock skew plus transit). */
  windowMs: number;
  /** Nonces remembered at most; past it, new messages are refused ('flood') until old ones age out. */
  maxEntries: number;
}

export class ReplayWindow {
  /** `sender/nonce` → the message's timestamp. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly options: ReplayWindowOptions) {}

  /** Checks a message and, when it is accepted, remembers its nonce. */
  check(from: string, nonce: string, sentAtMs: number, nowMs: number): ReplayVerdict {
    if (Math.abs(nowMs - sentAtMs) > this.options.windowMs) return 'stale';
    this.forgetOlderThan(nowMs - this.options.windowMs);
    const id = `${from}/${nonce}`;
    if (this.seen.has(id)) return 'replay';
    if (this.seen.size >= this.options.maxEntries) return 'flood';
    this.seen.set(id, sentAtMs);
    return 'ok';
  }

  /** Nonces remembered now. */
  get size(): number {
    return this.seen.size;
  }

  private forgetOlderThan(oldestMs: number): void {
    for (const [id, sentAtMs] of this.seen) if (sentAtMs < oldestMs) this.seen.delete(id);
  }
}
