/**
 * What one parse of a relay list collects: the relays (duplicates merged through the RelayIndex), the
 * diagnostics (at most MAX_DIAGNOSTICS, the rest counted), and whether the list is unusable. Shared by
 * the text and the JSON form; every parse has its own.
 */
import { mergeGroups } from './groups.js';
import { RelayIndex, hashRelay } from './relay-index.js';
import { relayKey, type Diagnostic, type Relay } from './relay.js';

/** Size limits of a relay list (DESIGN §3). */
export interface RelayListLimits {
  /** Longest line, in UTF-8 bytes, without the line break. @default 4096 */
  maxLineBytes: number;
  /** Largest file, in bytes. @default 67108864 (64 MiB) */
  maxFileBytes: number;
  /** Most relays in one list. @default 1000000 */
  maxRelays: number;
}

/** Diagnostics kept per list; the rest are counted in one closing diagnostic. */
export const MAX_DIAGNOSTICS = 1000;

/** Raw affiliation values remembered per parse: lists repeat the same few values. */
const MAX_CACHED_AFFILIATIONS = 10_000;

export class ParseContext {
  readonly relays: Relay[] = [];
  /** True when the list must not be used: not text, over a size limit, bad JSON, or no relay at all. */
  rejected = false;
  /** Words of the IPv6 host being read, filled by scanHostSpec and read by hashHost. */
  readonly ipv6Words = new Uint16Array(8);
  private readonly index = new RelayIndex(this.relays);
  /** Raw affiliation value → canonical groups, so equal values share one array (see cacheGroups). */
  readonly groupsByValue = new Map<string, string[]>();
  private readonly diagnostics: Diagnostic[] = [];
  private droppedErrors = 0;
  private droppedWarnings = 0;
  private lastLine = 1;

  constructor(
    readonly file: string,
    readonly limits: RelayListLimits,
  ) {}

  report(severity: Diagnostic['severity'], line: number, column: number, message: string): void {
    this.lastLine = line;
    if (this.diagnostics.length < MAX_DIAGNOSTICS)
      this.diagnostics.push({ severity, file: this.file, line, column, message });
    else if (severity === 'error') this.droppedErrors++;
    else this.droppedWarnings++;
  }

  /** Sizes the duplicate index for the relays to come. */
  expectRelays(count: number): void {
    this.index.reserve(Math.min(count, this.limits.maxRelays));
  }

  cacheGroups(value: string, groups: string[]): void {
    if (this.groupsByValue.size < MAX_CACHED_AFFILIATIONS) this.groupsByValue.set(value, groups);
  }

  /**
   * Adds a relay, or merges its groups into an earlier definition of the same host:port.
   * @returns `added`, `full` when the list has reached its limit, or the earlier definition.
   */
  addRelay(relay: Relay, hostHash: number): 'added' | 'full' | Relay {
    const hash = hashRelay(hostHash, relay.port);
    const first = this.index.find(relay, hash);
    if (first !== undefined) {
      first.groups = mergeGroups(first.groups, relay.groups);
      return first;
    }
    if (this.relays.length >= this.limits.maxRelays) return 'full';
    this.relays.push(relay);
    this.index.add(hash);
    return 'added';
  }

  /**
   * Says what `addRelay` did when it did not simply add: a warning for a duplicate (named by `where`),
   * an error that rejects the list when it is full.
   * @returns false when parsing must stop.
   */
  reportNotAdded(outcome: 'full' | Relay, relay: Relay, line: number, column: number, where: string): boolean {
    if (outcome === 'full') {
      const limit = this.limits.maxRelays;
      this.report('error', line, column, `more than ${limit} relays; expected at most ${limit} (split the list)`);
      this.rejected = true;
      return false;
    }
    const firstWhere = outcome.source === undefined ? 'earlier' : `at line ${outcome.source.line}`;
    this.report(
      'warning',
      line,
      column,
      `relay ${relayKey(relay)} (${where}) is already defined ${firstWhere}; its affiliation groups were merged into the first definition, whose priority, weight and name are kept`,
    );
    return true;
  }

  /** The diagnostics, closed by a count of the ones left out. */
  finish(): Diagnostic[] {
    if (this.droppedErrors + this.droppedWarnings > 0) {
      this.diagnostics.push({
        severity: this.droppedErrors > 0 ? 'error' : 'warning',
        file: this.file,
        line: this.lastLine,
        column: 1,
        message: `${this.droppedErrors} more errors and ${this.droppedWarnings} more warnings not shown; expected at most ${MAX_DIAGNOSTICS} problems per list`,
      });
    }
    return this.diagnostics;
  }
}
