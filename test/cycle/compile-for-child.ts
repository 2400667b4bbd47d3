import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The modules a child process needs, transpiled file by file so others' work in progress cannot break the build. */
const SOURCES = ['src/errors.ts', 'src/cycle/clock.ts', 'src/cycle/state.ts', 'src/cycle/state-store.ts', 'src/cycle/lock.ts'];

export interface CompiledCycleModules {
  /** Absolute path of the compiled `src/cycle/<name>.js`. */
  modulePath(name: 'state-store' | 'lock'): string;
  cleanup(): Promise<void>;
}

/**
 * Transpiles the real store and lock (same code path as dist/) into a directory inside the repository,
 * so `write-file-atomic` and `zod` resolve from its node_modules.
 */
export async function compileCycleModulesForChildren(): Promise<CompiledCycleModules> {
  const outputDirectory = path.join(repositoryRoot, 'test', 'cycle', `.compiled-${process.pid}-${Date.now()}`);
  for (const source of SOURCES) {
    const text = await readFile(path.join(repositoryRoot, source), 'utf8');
    const output = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: source,
    });
    const target = path.join(outputDirectory, source.replace(/\.ts$/, '.js'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, output.outputText);
  }
  await writeFile(path.join(outputDirectory, 'package.json'), '{"type":"module"}\n');
  return {
    modulePath: (name) => path.join(outputDirectory, 'src', 'cycle', `${name}.js`),
    cleanup: () => rm(outputDirectory, { recursive: true, force: true }),
  };
}
