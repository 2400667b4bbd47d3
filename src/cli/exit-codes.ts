import type { ErrorCode } from '../errors.js';
import { NATIVE_ADDON_HINT, RAW_SOCKET_PERMISSION_HINT } from '../probe/icmp-addon.js';

/** Exit statuses (sysexits.h), DESIGN §7. */
export const EXIT = {
  ok: 0,
  usage: 64,
  dataError: 65,
  unavailable: 69,
  software: 70,
  osError: 71,
  osFile: 72,
  cantCreate: 73,
  tempFail: 75,
  noPermission: 77,
  config: 78,
  interrupted: 130,
} as const;

/** What each error code means to the shell that ran us. */
export const EXIT_CODE_BY_ERROR: Record<ErrorCode, number> = {
  USAGE: EXIT.usage,
  RELAY_LIST_INVALID: EXIT.dataError,
  RELAY_LIST_MISSING: EXIT.dataError,
  TOPOLOGY_INVALID: EXIT.dataError,
  CONFIG_INVALID: EXIT.config,
  CONFIG_UNREADABLE: EXIT.config,
  RAW_SOCKET_PERMISSION: EXIT.noPermission,
  ICMP_SOCKET_FAILED: EXIT.osError,
  NATIVE_ADDON_MISSING: EXIT.osFile,
  NOT_ROOT: EXIT.noPermission,
  LOCKED: EXIT.tempFail,
  STATE_UNWRITABLE: EXIT.cantCreate,
  NO_RELAY: EXIT.unavailable,
  RESOLVE_FAILED: EXIT.unavailable,
  LAB_FAILED: EXIT.software,
  ABORTED: EXIT.interrupted,
  INTERNAL: EXIT.software,
};

/** Hints for codes whose fix is the same wherever they arise; an error's own hint wins. */
export const DEFAULT_HINT_BY_ERROR: Partial<Record<ErrorCode, string>> = {
  RAW_SOCKET_PERMISSION: RAW_SOCKET_PERMISSION_HINT,
  NATIVE_ADDON_MISSING: NATIVE_ADDON_HINT,
  LOCKED: 'another run is in progress; cron will call again, or wait for it to finish',
  NOT_ROOT: 'run it as root (sudo): network namespaces need CAP_SYS_ADMIN',
  USAGE: "see 'relay-select --help'",
};
