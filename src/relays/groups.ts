import { UNAFFILIATED_POOL } from './relay.js';

/** Longest affiliation group name. */
const MAX_GROUP_NAME_CHARS = 64;

/**
 * Canonical form of one affiliation group or seek-list entry: trimmed, lower-case, checked.
 * `*` (the unaffiliated pool) is returned as `*`.
 * @returns the canonical name, or `{ error }` saying what was expected.
 */
export function parseGroupName(text: string): string | { error: string } {
  const name = text.trim();
  if (name === UNAFFILIATED_POOL) return UNAFFILIATED_POOL;
  if (name === '') return { error: 'affiliation group is empty; expected a group name or *' };
  if (name.length > MAX_GROUP_NAME_CHARS) {
    return {
      error: `affiliation group "${name}" is ${name.length} characters long; expected at most ${MAX_GROUP_NAME_CHARS}`,
    };
  }
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    const allowed =
      (code >= 48 && code <= 57) ||
      (code >= 65 && code <= 90) ||
      (code >= 97 && code <= 122) ||
      code === 45 /* - */ ||
      code === 95; /* _ */
    if (!allowed) {
      return {
        error: `affiliation group "${name}" is not valid; expected letters, digits, "_" and "-" (at most ${MAX_GROUP_NAME_CHARS} characters), or *`,
      };
    }
  }
  return name.toLowerCase();
}

/**
 * Splits an affiliation value (`HQ;DMZ`, `Branch-Lyon,*`) into canonical groups. Empty parts (a
 * trailing `;`) are ignored. A lone `*` gives `[]` (unaffiliated); `*` next to other groups is kept
 * as `*` so the relay stays in the unaffiliated pool as well.
 *
 * @returns the groups, or `{ error, offset }` with the offset of the bad group in `text`.
 */
export function parseAffiliation(text: string): string[] | { error: string; offset: number } {
  const groups: string[] = [];
  let partStart = 0;
  for (let index = 0; index <= text.length; index++) {
    const code = index === text.length ? 59 : text.charCodeAt(index);
    if (code !== 59 /* ; */ && code !== 44 /* , */) continue;
    const part = text.slice(partStart, index);
    if (part.trim() !== '') {
      const group = parseGroupName(part);
      if (typeof group !== 'string') {
        return { error: group.error, offset: partStart + (part.length - part.trimStart().length) };
      }
      if (!groups.includes(group)) groups.push(group);
    }
    partStart = index + 1;
  }
  if (groups.length === 0) {
    return { error: 'affiliation is empty; expected group names separated by ";" or ",", or *', offset: 0 };
  }
  return canonicalGroups(groups);
}

/** `[*]` alone means unaffiliated and is stored as `[]`. */
export function canonicalGroups(groups: string[]): string[] {
  return groups.length === 1 && groups[0] === UNAFFILIATED_POOL ? [] : groups;
}

/** Whether a relay with these groups belongs to the unaffiliated (`*`) pool. */
export function isUnaffiliated(groups: readonly string[]): boolean {
  return groups.length === 0 || groups.includes(UNAFFILIATED_POOL);
}

/**
 * Groups of two definitions of the same relay, merged. An unaffiliated definition contributes `*`
 * so the merged relay stays reachable through the `*` pool.
 */
export function mergeGroups(first: readonly string[], second: readonly string[]): string[] {
  const merged = first.length === 0 ? [UNAFFILIATED_POOL] : [...first];
  for (const group of second.length === 0 ? [UNAFFILIATED_POOL] : second) {
    if (!merged.includes(group)) merged.push(group);
  }
  return canonicalGroups(merged);
}
