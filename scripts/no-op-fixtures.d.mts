/** Types of no-op-fixtures.mjs for test/cli/startup-imports.test.ts. */
export function writeNoOpFixtures(
  directory: string,
  options: { port: number; otherRelays?: number; kept?: Record<string, unknown> },
): {
  stateDirs: { empty: string; kept: string; waiting: string };
  relayList: string;
  relayListText: string;
  config: string;
  metricsFile: string;
};
