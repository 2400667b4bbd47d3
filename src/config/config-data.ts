/**
 * What a config file's loader returned, turned into plain data before anything else looks at it. Pure.
 *
 * A loader's result is not yet data: YAML aliases make a graph whose expansion can be exponential (an
 * "alias bomb") or endless (an anchor used inside itself), JSON and YAML can nest thousands deep, and a
 * JavaScript config may hand over getters that throw. Walking such a value naively — to validate it,
 * format it into a message, or clone it — takes minutes and gigabytes, overflows the stack, or throws
 * where nobody expects it. The walk here is bounded: it counts every value it visits, so an aliased
 * subtree counts each time it appears, and it stops at the first problem with a sentence that says so.
 */
import { isObject, isPlainObject } from '../plain-object.js';

/** Settings nest three levels (`register.tls.ca`); a list adds one. Far deeper is not a settings file. */
export const MAX_CONFIG_DEPTH = 16;
/** Values visited, aliases expanded: a settings file has dozens, a long seek list a few thousand. */
export const MAX_CONFIG_VALUES = 10_000;

type ConfigDataResult = { ok: true; value: unknown } | { ok: false; reason: string };

class ConfigDataProblem extends Error {}

function describePath(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'the top level';
  return `"${path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('')}"`;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}

/**
 * A copy of `value` made of plain objects, arrays, strings, numbers, booleans and null, or the reason it
 * cannot be one. `undefined` properties are dropped (a JavaScript config may leave a setting unset);
 * a Date (a YAML timestamp) becomes its ISO text, so validation reports it as the wrong type.
 * Keys are copied as own properties, so a key named `__proto__` stays a key, to be reported as an unknown setting.
 */
export function toConfigData(value: unknown, limits: { maxDepth?: number; maxValues?: number } = {}): ConfigDataResult {
  const maxDepth = limits.maxDepth ?? MAX_CONFIG_DEPTH;
  const maxValues = limits.maxValues ?? MAX_CONFIG_VALUES;
  let visited = 0;
  const ancestors = new Set<object>();

  const copy = (node: unknown, path: (string | number)[]): unknown => {
    if (++visited > maxValues) {
      throw new ConfigDataProblem(`holds more than ${maxValues} values (YAML aliases that expand without end?)`);
    }
    if (node === null || typeof node === 'string' || typeof node === 'boolean' || typeof node === 'number') return node;
    if (typeof node !== 'object')
      throw new ConfigDataProblem(`${describePath(path)} is a ${typeof node}; a config file holds settings data only`);
    if (node instanceof Date) return Number.isNaN(node.getTime()) ? String(node) : node.toISOString();
    if (ancestors.has(node))
      throw new ConfigDataProblem(`${describePath(path)} contains itself (a YAML anchor used inside itself?)`);
    if (path.length >= maxDepth)
      throw new ConfigDataProblem(
        `nests deeper than ${maxDepth} levels (at ${describePath(path.slice(0, 3))}…); settings nest at most 3 levels`,
      );
    ancestors.add(node);
    try {
      if (Array.isArray(node)) {
        const length = node.length;
        const result: unknown[] = [];
        for (let index = 0; index < length; index++) result.push(copy(read(node, index, path), [...path, index]));
        return result;
      }
      if (!isPlainObject(node)) {
        const name = (node.constructor as { name?: unknown } | undefined)?.name;
        throw new ConfigDataProblem(
          `${describePath(path)} is ${typeof name === 'string' && name !== '' ? `a ${name}` : 'an object of a class'}, not plain settings data`,
        );
      }
      const result: Record<string, unknown> = {};
      for (const key of keysOf(node, path)) {
        const child = read(node, key, path);
        if (child === undefined) continue;
        Object.defineProperty(result, key, {
          value: copy(child, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return result;
    } finally {
      ancestors.delete(node);
    }
  };

  try {
    return { ok: true, value: copy(value, []) };
  } catch (error) {
    if (error instanceof ConfigDataProblem) return { ok: false, reason: error.message };
    // A RangeError from a proxy or a getter deep in the value: still the file's fault, never ours.
    return { ok: false, reason: `cannot be read as settings data: ${errorText(error)}` };
  }
}

/** Reads one property; a getter or proxy that throws is the config's problem, reported by path. */
function read(node: object, key: string | number, path: readonly (string | number)[]): unknown {
  try {
    return (node as Record<string | number, unknown>)[key];
  } catch (error) {
    throw new ConfigDataProblem(`reading ${describePath([...path, key])} threw: ${errorText(error)}`);
  }
}

function keysOf(node: object, path: readonly (string | number)[]): string[] {
  try {
    return Object.keys(node);
  } catch (error) {
    throw new ConfigDataProblem(`listing the keys of ${describePath(path)} threw: ${errorText(error)}`);
  }
}

/**
 * `over` on top of `base`, as a config file's own settings sit on the files it `$import`s: objects merge
 * key by key, anything else (a list included) is replaced whole. Pure; both are plain data.
 */
export function mergeConfigData(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base))
    Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
  for (const [key, value] of Object.entries(over)) {
    const merged = Object.hasOwn(result, key) ? mergeConfigData(result[key], value) : value;
    Object.defineProperty(result, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return result;
}
