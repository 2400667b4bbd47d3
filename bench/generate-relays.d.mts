/** Types of generate-relays.mjs for the tests that compare the bundled large sample with it. */
export function generateRelayList(count: number, options?: { seed?: number; branches?: number }): string;
