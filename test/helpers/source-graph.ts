/**
 * The import graph of the repository's own sources, read with the TypeScript parser (no type check):
 * which module imports which names from which. The source-rules test uses it to find import cycles
 * in src/ and exports that nothing imports.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** One import (or re-export) of one module by another; `names` is `'*'` when every export is used. */
export interface ImportEdge {
  from: string;
  to: string;
  /** Names taken from `to`, or `'*'` (namespace import, dynamic import, `export *`). */
  names: readonly string[] | '*';
  /** For a re-export (`export { a as b } from`): exported name in `from` → name in `to`. */
  reexports: ReadonlyMap<string, string> | null;
  /** `export * from`: every export of `to` is also one of `from`. */
  reexportsAll: boolean;
  typeOnly: boolean;
  dynamic: boolean;
}

export interface SourceModule {
  /** Path relative to the repository root, e.g. `src/cli/main.ts`. */
  path: string;
  /** Names this module exports from its own declarations (`export function f`, `export { a }`). */
  ownExports: Set<string>;
  imports: ImportEdge[];
  text: string;
}

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.mjs', '.js', '.cjs'];

function listFiles(root: string, directory: string): string[] {
  const absolute = join(root, directory);
  if (!existsSync(absolute)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(absolute, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(root, path));
    else if (SOURCE_EXTENSIONS.some((extension) => entry.name.endsWith(extension)) && !entry.name.endsWith('.d.ts'))
      files.push(path);
  }
  return files;
}

/**
 * Resolves a relative specifier to a repository path. Compiled paths (`dist/x.js`) map to their
 * source (`src/x.ts`), so benchmarks that import the build count as users of the source.
 */
function resolveSpecifier(root: string, fromPath: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  let target = relative(root, resolve(root, dirname(fromPath), specifier));
  if (target.startsWith(`dist/`)) target = `src/${target.slice('dist/'.length)}`;
  const candidates = [
    target,
    target.replace(/\.js$/, '.ts'),
    target.replace(/\.mjs$/, '.mts'),
    `${target}.ts`,
    join(target, 'index.ts'),
  ];
  return candidates.find((candidate) => existsSync(join(root, candidate)) && !candidate.endsWith('/'));
}

function hasExportModifier(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)
  );
}

function declaredNames(node: ts.Statement): string[] {
  if (ts.isVariableStatement(node)) {
    return node.declarationList.declarations.flatMap((declaration) =>
      ts.isIdentifier(declaration.name) ? [declaration.name.text] : [],
    );
  }
  if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) && node.name) {
    const isDefault = (ts.getModifiers(node) ?? []).some((modifier) => modifier.kind === ts.SyntaxKind.DefaultKeyword);
    return [isDefault ? 'default' : node.name.text];
  }
  if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isEnumDeclaration(node))
    return [node.name.text];
  return [];
}

function readModule(root: string, path: string): SourceModule {
  const text = readFileSync(join(root, path), 'utf8');
  const kind = path.endsWith('.ts') || path.endsWith('.mts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true, kind);
  const module: SourceModule = { path, ownExports: new Set(), imports: [], text };
  const edge = (specifier: string, fields: Omit<ImportEdge, 'from' | 'to'>): void => {
    const to = resolveSpecifier(root, path, specifier);
    if (to !== undefined) module.imports.push({ from: path, to, ...fields });
  };

  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      const names: string[] = [];
      let all = false;
      if (clause?.name) names.push('default');
      if (clause?.namedBindings && ts.isNamespaceImport(clause.namedBindings)) all = true;
      if (clause?.namedBindings && ts.isNamedImports(clause.namedBindings)) {
        for (const element of clause.namedBindings.elements) names.push((element.propertyName ?? element.name).text);
      }
      edge(statement.moduleSpecifier.text, {
        names: all ? '*' : names,
        reexports: null,
        reexportsAll: false,
        typeOnly: clause?.isTypeOnly ?? false,
        dynamic: false,
      });
    } else if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
        if (clause === undefined) {
          edge(statement.moduleSpecifier.text, {
            names: [],
            reexports: null,
            reexportsAll: true,
            typeOnly: statement.isTypeOnly,
            dynamic: false,
          });
        } else if (ts.isNamedExports(clause)) {
          const reexports = new Map(
            clause.elements.map((element) => [element.name.text, (element.propertyName ?? element.name).text]),
          );
          edge(statement.moduleSpecifier.text, {
            names: [],
            reexports,
            reexportsAll: false,
            typeOnly: statement.isTypeOnly,
            dynamic: false,
          });
        } else {
          edge(statement.moduleSpecifier.text, {
            names: [],
            reexports: new Map([[clause.name.text, '*']]),
            reexportsAll: false,
            typeOnly: statement.isTypeOnly,
            dynamic: false,
          });
        }
      } else if (clause && ts.isNamedExports(clause)) {
        for (const element of clause.elements) module.ownExports.add(element.name.text);
      }
    } else if (ts.isExportAssignment(statement)) {
      module.ownExports.add('default');
    } else if (hasExportModifier(statement)) {
      for (const name of declaredNames(statement)) module.ownExports.add(name);
    }
  }

  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument))
        edge(argument.text, { names: '*', reexports: null, reexportsAll: false, typeOnly: false, dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return module;
}

/** Every module under the given top-level directories, keyed by repository path. */
export function readSourceGraph(root: string, directories: readonly string[]): Map<string, SourceModule> {
  const modules = new Map<string, SourceModule>();
  for (const directory of directories)
    for (const path of listFiles(root, directory)) modules.set(path, readModule(root, path));
  return modules;
}

/** Import cycles among the modules whose path starts with `prefix` (each cycle once, as a path list). */
export function findImportCycles(modules: ReadonlyMap<string, SourceModule>, prefix: string): string[][] {
  const inScope = (path: string): boolean => path.startsWith(prefix);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (path: string): void => {
    state.set(path, 'visiting');
    stack.push(path);
    for (const edge of modules.get(path)?.imports ?? []) {
      if (!inScope(edge.to)) continue;
      const mark = state.get(edge.to);
      if (mark === 'visiting') {
        const cycle = stack.slice(stack.indexOf(edge.to));
        const key = [...cycle].sort().join(' ');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cycle, edge.to]);
        }
      } else if (mark === undefined) visit(edge.to);
    }
    stack.pop();
    state.set(path, 'done');
  };
  for (const path of [...modules.keys()].filter(inScope).sort()) if (!state.has(path)) visit(path);
  return cycles;
}

/** `module#name` of every export of a module under `prefix` that no module imports (or re-exports from a used name). */
export function findUnusedExports(
  modules: ReadonlyMap<string, SourceModule>,
  prefix: string,
  publicEntry: string,
): string[] {
  const used = new Set<string>();
  const allUsed = new Set<string>();
  const exportsOf = (path: string, visited = new Set<string>()): Set<string> => {
    const module = modules.get(path);
    if (module === undefined || visited.has(path)) return new Set();
    visited.add(path);
    const names = new Set(module.ownExports);
    for (const edge of module.imports) {
      for (const name of edge.reexports?.keys() ?? []) names.add(name);
      if (edge.reexportsAll) for (const name of exportsOf(edge.to, visited)) if (name !== 'default') names.add(name);
    }
    return names;
  };
  const queue: Array<[string, string]> = [];
  const markUsed = (path: string, name: string): void => {
    if (name === '*') {
      if (allUsed.has(path)) return;
      allUsed.add(path);
      for (const each of exportsOf(path)) markUsed(path, each);
      return;
    }
    const key = `${path}#${name}`;
    if (used.has(key)) return;
    used.add(key);
    queue.push([path, name]);
  };

  markUsed(publicEntry, '*');
  for (const module of modules.values()) {
    for (const edge of module.imports) {
      if (edge.names === '*') markUsed(edge.to, '*');
      else for (const name of edge.names) markUsed(edge.to, name);
    }
  }
  // A used re-export uses the name it forwards.
  while (queue.length > 0) {
    const [path, name] = queue.shift()!;
    for (const edge of modules.get(path)?.imports ?? []) {
      const forwarded = edge.reexports?.get(name);
      if (forwarded !== undefined) markUsed(edge.to, forwarded);
      if (edge.reexportsAll && !(modules.get(path)?.ownExports.has(name) ?? false) && exportsOf(edge.to).has(name))
        markUsed(edge.to, name);
    }
  }

  const unused: string[] = [];
  for (const module of modules.values()) {
    if (!module.path.startsWith(prefix)) continue;
    for (const name of exportsOf(module.path))
      if (!used.has(`${module.path}#${name}`)) unused.push(`${module.path}#${name}`);
  }
  return unused.sort();
}
