import { describe, expect, it } from 'vitest';
import { ReplayWindow } from '../../src/agent/replay-window.js';
import { createFakeClock } from '../helpers/fake-clock.js';

const WINDOW_MS = 30_000;

describe('ReplayWindow', () => {
  it('accepts a message once and refuses the same sender and nonce again within the window', () => {
    const clock = createFakeClock();
    const window = new ReplayWindow({ windowMs: WINDOW_MS, maxEntries: 100 });
    const now = clock.now().getTime();
    expect(window.check('a', 'n1', now, now)).toBe('ok');
    expect(window.check('a', 'n1', now, now + 1000)).toBe('replay');
    expect(window.check('b', 'n1', now, now + 1000)).toBe('ok');
    expect(window.check('a', 'n2', now, now + 1000)).toBe('ok');
  });

  it('refuses a message whose timestamp lies outside the window either way', () => {
    const clock = createFakeClock();
    const window = new ReplayWindow({ windowMs: WINDOW_MS, maxEntries: 100 });
    const now = clock.now().getTime();
    expect(window.check('a', 'n1', now - WINDOW_MS - 1, now)).toBe('stale');
    expect(window.check('a', 'n2', now + WINDOW_MS + 1, now)).toBe('stale');
    expect(window.check('a', 'n3', now - WINDOW_MS, now)).toBe('ok');
  });

  it('forgets a nonce once its message would be stale anyway, so memory stays bounded', () => {
    const clock = createFakeClock();
    const window = new ReplayWindow({ windowMs: WINDOW_MS, maxEntries: 100 });
    const sentAt = clock.now().getTime();
    window.check('a', 'n1', sentAt, sentAt);
    clock.advanceMs(WINDOW_MS + 1);
    const later = clock.now().getTime();
    // The old message itself is stale now: a replay of it still fails.
    expect(window.check('a', 'n1', sentAt, later)).toBe('stale');
    expect(window.check('a', 'n9', later, later)).toBe('ok');
    expect(window.size).toBe(1);
  });

  it('refuses new nonces when full, until old ones age out', () => {
    const clock = createFakeClock();
    const window = new ReplayWindow({ windowMs: WINDOW_MS, maxEntries: 2 });
    const now = clock.now().getTime();
    expect(window.check('a', 'n1', now, now)).toBe('ok');
    expect(window.check('a', 'n2', now, now)).toBe('ok');
    expect(window.check('a', 'n3', now, now)).toBe('flood');
    clock.advanceMs(WINDOW_MS + 1);
    const later = clock.now().getTime();
    expect(window.check('a', 'n3', later, later)).toBe('ok');
  });
});
