import { describe, expect, it } from 'vitest';
import { lookUpSourceAddress } from '../../src/probe/source-address.js';

describe('lookUpSourceAddress — the kernel route lookup of a connected UDP socket (nothing is sent)', () => {
  it('names the loopback address as the source toward loopback', async () => {
    expect(await lookUpSourceAddress('127.0.0.1', 4)).toBe('127.0.0.1');
    expect(await lookUpSourceAddress('127.0.0.2', 4)).toBe('127.0.0.1');
  });
});
