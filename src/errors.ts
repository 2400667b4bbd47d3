/**
 * The one error base class of relay-select. Every failure a user can cause or meet carries a stable
 * `code`; only the CLI edge turns a code into an exit status and a hint (src/cli/exit-codes.ts, used by reportError in src/cli/main.ts).
 */
export type ErrorCode =
  | 'USAGE' // bad command-line usage
  | 'RELAY_LIST_INVALID' // relay list unreadable, not text, over a limit, or without a single relay
  | 'RELAY_LIST_MISSING' // relay list file does not exist
  | 'CONFIG_INVALID' // a setting has a bad value or name
  | 'CONFIG_UNREADABLE' // a settings file cannot be read or parsed
  | 'FILE_UNTRUSTED' // as root: a settings file, clientsettings.cfg, relay list or TLS file (or a directory above it) that another user can write
  | 'RAW_SOCKET_PERMISSION' // no ICMP socket allowed: ping sockets refused (ping_group_range) and raw sockets refused (no CAP_NET_RAW)
  | 'ICMP_SOCKET_FAILED' // an ICMP socket system call failed for another reason (the message names the call and errno)
  | 'NATIVE_ADDON_MISSING' // the ICMP addon was not built or cannot be loaded
  | 'LOCKED' // another run holds the state lock
  | 'STATE_UNWRITABLE' // the state directory or file cannot be written
  | 'STATE_UNTRUSTED' // the state directory or a file in it is not what relay-select made: another owner, writable by others, a symbolic link, not a regular file
  | 'NO_RELAY' // selection found no relay that could be registered
  | 'TOPOLOGY_INVALID' // a lab topology file is wrong
  | 'INPUT_INVALID' // an input file of a command other than the relay list (estimate --from) is unreadable or not what it should be
  | 'OUTPUT_UNWRITABLE' // an output file a command was asked to write (simulate --svg) cannot be created
  | 'LAB_FAILED' // a lab could not be built or run
  | 'NOT_ROOT' // a command needs root (lab)
  | 'ABORTED' // stopped by a signal
  | 'INTERNAL';

export interface RelaySelectErrorOptions {
  cause?: unknown;
  /** A sentence telling a person how to fix it. */
  hint?: string;
  /** The file the error is about, when there is one. */
  file?: string;
}

export class RelaySelectError extends Error {
  override name = 'RelaySelectError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: RelaySelectErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.file = options.file;
  }
}

export function isRelaySelectError(error: unknown): error is RelaySelectError {
  return error instanceof RelaySelectError;
}
