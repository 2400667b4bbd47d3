import { it, type TestFunction } from 'vitest';

/** Namespace tests need root; they skip with this reason otherwise. */
export const isRoot = process.getuid?.() === 0;
export const NOT_ROOT_REASON = 'needs root to create network namespaces (run the suite as root)';

/** A test that needs root: the title says what is tested, and says why only when it is skipped. */
export function itAsRoot(title: string, body: TestFunction, timeoutMs?: number): void {
  if (isRoot) it(title, body, timeoutMs);
  else it.skip(`${title} — skipped: ${NOT_ROOT_REASON}`, body);
}
