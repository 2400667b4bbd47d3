import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that build network namespaces (test/lab/, and the README's lab command) share the kernel's
 * netns table and time round trips: they run one file at a time, after the rest.
 */
const NAMESPACE_TESTS = ['test/lab/**/*.test.ts', 'test/cli/readme.test.ts'];

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...NAMESPACE_TESTS],
          // Most unit files wait on child processes, servers and timers, not the CPU: one worker per core
          // (vitest's default leaves one core idle).
          maxWorkers: Math.max(2, availableParallelism()),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'namespaces', include: NAMESPACE_TESTS, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
