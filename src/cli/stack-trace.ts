import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * A stack trace as a person can follow it: the CLI runs minified from one bundle (dist/cli.cjs,
 * scripts/bundle-cli.mjs), and Node does not map code compiled with node:vm even with
 * --enable-source-maps, so `--verbose` maps each frame in the bundle through dist/cli.cjs.map to its line
 * in src/. Frames elsewhere, and every frame when the map is missing or unreadable, are left as they are.
 */
export function readableStack(stack: string): string {
  if (!stack.includes('cli.cjs:')) return stack;
  const bundleUrl = new URL('../cli.cjs', import.meta.url);
  const bundle = fileURLToPath(bundleUrl);
  let map: SourceMap;
  try {
    map = new SourceMap(
      JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0],
    );
  } catch {
    return stack;
  }
  const frame = new RegExp(`${escapeRegExp(bundle)}:(\\d+):(\\d+)`, 'g');
  return stack.replace(frame, (whole, line: string, column: string) => {
    const origin = map.findOrigin(Number(line), Number(column)) as
      { fileName?: string; lineNumber?: number; columnNumber?: number } | undefined;
    if (origin?.fileName === undefined || origin.lineNumber === undefined) return whole;
    return `${fileURLToPath(new URL(origin.fileName, bundleUrl))}:${origin.lineNumber}:${origin.columnNumber}`;
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
