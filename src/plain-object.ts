/** What kind of object a value parsed from JSON, YAML or a settings module is (pure; imports nothing). */

/** An object that is not an array (a JSON object, as a parser gives it). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An object literal or `Object.create(null)`: not an array, a Date, a Map or a class instance. What a
 * validator accepts as an object of settings or state, the way zod's object schemas do.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
