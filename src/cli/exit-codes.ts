import type { ErrorCode } from '../errors.js';
import { NATIVE_ADDON_HINT, RAW_SOCKET_PERMISSION_HINT } from '../probe/remedies.js';

interface ExitStatus {
  name: string;
  code: number;
  /** As `--help` and the man page say it. */
  meaning: string;
  /** The error codes that end a command with this status. */
  errors: readonly ErrorCode[];
}

/**
 * Exit statuses (sysexits.h, DESIGN §7): the one table the `--help` epilogue, the man page and the
 * error → status mapping derive from.
 */
export const EXIT_STATUSES = [
  { name: 'ok', code: 0, meaning: 'done: registered, kept, or nothing due yet', errors: [] },
  { name: 'usage', code: 64, meaning: 'usage error', errors: ['USAGE'] },
  {
    name: 'dataError',
    code: 65,
    meaning: 'bad or missing relay list (none cached), bad lab topology or --from file',
    errors: ['RELAY_LIST_INVALID', 'RELAY_LIST_MISSING', 'TOPOLOGY_INVALID', 'INPUT_INVALID'],
  },
  {
    name: 'unavailable',
    code: 69,
    meaning: 'no relay could be registered (a retry is scheduled), or report-failure found no current relay',
    errors: ['NO_RELAY'],
  },
  {
    name: 'software',
    code: 70,
    meaning: 'internal error, or a lab could not be built',
    errors: ['LAB_FAILED', 'INTERNAL'],
  },
  { name: 'osError', code: 71, meaning: 'an ICMP socket system call failed', errors: ['ICMP_SOCKET_FAILED'] },
  {
    name: 'osFile',
    code: 72,
    meaning: 'the ICMP addon or the CLI bundle is not built: npm rebuild relay-select',
    errors: ['NATIVE_ADDON_MISSING'],
  },
  {
    name: 'cantCreate',
    code: 73,
    meaning: 'state directory or output file not writable, or another user could change the state',
    errors: ['STATE_UNWRITABLE', 'STATE_UNTRUSTED', 'OUTPUT_UNWRITABLE'],
  },
  { name: 'tempFail', code: 75, meaning: 'another run holds the lock', errors: ['LOCKED'] },
  {
    name: 'noPermission',
    code: 77,
    meaning: 'no permission for ICMP sockets (ping_group_range, CAP_NET_RAW); lab needs root',
    errors: ['RAW_SOCKET_PERMISSION', 'NOT_ROOT'],
  },
  {
    name: 'config',
    code: 78,
    meaning: 'bad configuration, or (as root) a settings or input file another user could change',
    errors: ['CONFIG_INVALID', 'CONFIG_UNREADABLE', 'FILE_UNTRUSTED'],
  },
  { name: 'interrupted', code: 130, meaning: 'interrupted (SIGINT)', errors: ['ABORTED'] },
  // Whatever the command was doing when SIGTERM came, the status is this one (see main.ts).
  { name: 'terminated', code: 143, meaning: 'terminated (SIGTERM)', errors: [] },
] as const satisfies readonly ExitStatus[];

type ExitStatusName = (typeof EXIT_STATUSES)[number]['name'];
/** The error codes the table maps; a code missing from it makes `exitCodeOfError(error.code)` fail to compile. */
type MappedErrorCode = (typeof EXIT_STATUSES)[number]['errors'][number];

/** The code of a status by its name: `exitCode('unavailable')` is 69. */
export function exitCode(name: ExitStatusName): number {
  return EXIT_STATUSES.find((status) => status.name === name)!.code;
}

/** What an error code means to the shell that ran us. */
export function exitCodeOfError(code: MappedErrorCode): number {
  return EXIT_STATUSES.find((status) => status.errors.some((mapped) => mapped === code))!.code;
}

/** The `Exit status:` paragraph of `--help`. */
export function renderExitStatusHelp(): string {
  return `Exit status:\n${EXIT_STATUSES.map((status) => `  ${String(status.code).padEnd(4)}${status.meaning}`).join('\n')}`;
}

/** Hints for codes whose fix is the same wherever they arise; an error's own hint wins. */
export const DEFAULT_HINT_BY_ERROR: Partial<Record<ErrorCode, string>> = {
  RAW_SOCKET_PERMISSION: RAW_SOCKET_PERMISSION_HINT,
  NATIVE_ADDON_MISSING: NATIVE_ADDON_HINT,
  LOCKED: 'another run is in progress; cron will call again, or wait for it to finish',
  NOT_ROOT: 'run it as root (sudo): network namespaces need CAP_SYS_ADMIN',
  USAGE: "see 'relay-select --help'",
};
