/**
 * Rules of how src/ is put together (ARCHITECTURE.md), checked over the source itself: no import
 * cycle, no cast that silences the type checker, the layers import only downwards, one owner of signals,
 * nothing exported that nothing imports, and no array spread into a call's arguments.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';
import { findImportCycles, findUnusedExports, readSourceGraph } from './helpers/source-graph.js';

const modules = readSourceGraph(REPO_ROOT, ['src', 'test', 'bench', 'bin']);
const sources = [...modules.values()].filter((module) => module.path.startsWith('src/'));

/** `path:line: text` of every line of src/ that matches. */
function linesMatching(pattern: RegExp, only: (path: string) => boolean = () => true): string[] {
  return sources
    .filter((module) => only(module.path))
    .flatMap((module) =>
      module.text
        .split('\n')
        .flatMap((line, index) => (pattern.test(line) ? [`${module.path}:${index + 1}: ${line.trim()}`] : [])),
    );
}

/**
 * `path:line: call` of every call in src/ that spreads an array into its arguments (`Math.max(...widths)`,
 * `lines.push(...rows)`, `String.fromCharCode(...bytes)`) or hands one to `apply`.
 */
function callsSpreadingArrays(): string[] {
  return sources.flatMap((module) => {
    const source = ts.createSourceFile(module.path, module.text, ts.ScriptTarget.ES2022, true);
    const found: string[] = [];
    const visit = (node: ts.Node): void => {
      const spreads =
        (ts.isCallExpression(node) || ts.isNewExpression(node)) && (node.arguments ?? []).some(ts.isSpreadElement);
      const applies =
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === 'apply' &&
        node.arguments.length >= 2;
      if (spreads || applies) {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        found.push(`${module.path}:${line}: ${node.getText(source).split('\n')[0]!.trim()}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  });
}

/** Imports from modules under `from` to modules under any of `to`. */
function importsBetween(from: string, to: readonly string[]): string[] {
  return sources
    .filter((module) => module.path.startsWith(from))
    .flatMap((module) =>
      module.imports
        .filter((edge) => to.some((target) => edge.to.startsWith(target)))
        .map((edge) => `${edge.from} → ${edge.to}`),
    );
}

describe('src/', () => {
  it('has no import cycle', () => {
    expect(findImportCycles(modules, 'src/').map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('has no `as never` and no `as unknown as`', () => {
    expect(linesMatching(/\bas never\b|\bas unknown as\b|:\s*never\s*[,)]/)).toEqual([]);
  });

  it('keeps the lab and the agent out of the CLI, and the core out of all three', () => {
    expect(importsBetween('src/lab/', ['src/cli/'])).toEqual([]);
    expect(importsBetween('src/agent/', ['src/cli/', 'src/lab/'])).toEqual([]);
    const core = ['src/relays/', 'src/select/', 'src/cycle/', 'src/probe/', 'src/register/', 'src/config/'];
    for (const layer of core) expect(importsBetween(layer, ['src/cli/', 'src/lab/', 'src/agent/'])).toEqual([]);
    // The simulator's agent model adopts tables by the agent's own pure rules (peer-table.ts), nothing else of it.
    const fleetIntoAgent = importsBetween('src/fleet/', ['src/agent/']).filter(
      (edge) => !/→ src\/agent\/peer-(table|message)\.ts$/.test(edge),
    );
    expect([...importsBetween('src/fleet/', ['src/cli/', 'src/lab/']), ...fleetIntoAgent]).toEqual([]);
  });

  it('listens for SIGINT, SIGTERM, SIGHUP and exit only in src/teardown.ts', () => {
    expect(linesMatching(/process\.(on|once|addListener)\(\s*'(SIGINT|SIGTERM|SIGHUP|exit)'/)).toEqual([]);
  });

  it('spreads no array into the arguments of a call: each element goes on the stack, and about 120,000 overflow it', () => {
    // A relay list may hold a million relays (DESIGN §3): use a loop, or reduce, instead.
    expect(callsSpreadingArrays()).toEqual([]);
  });

  it('exports nothing that nothing imports (src/index.ts is the public API)', () => {
    expect(findUnusedExports(modules, 'src/', 'src/index.ts')).toEqual([]);
  });
});
