import { RelaySelectError } from '../errors.js';
import { processTrustPolicy, readFileBounded, untrustedFileError, type TrustOptions } from '../trust.js';
import {
  decodeRelayList,
  describeFileTooLarge,
  parseRelayList,
  RELAY_LIST_LIMITS,
  type RelayListResult,
} from './parse.js';
import { formatDiagnostic } from './relay.js';

const FORMAT_HINT = 'see relay-select.dat(5) for the format';

/**
 * Reads and parses a relay list file. Warnings and skipped lines come back as diagnostics; a list
 * that cannot be used at all is an error.
 *
 * @throws RelaySelectError `RELAY_LIST_MISSING` when the file does not exist;
 *   `RELAY_LIST_INVALID` when it cannot be read, is not a regular file, is over 64 MiB, is not text or
 *   has no relay (the message is the first error diagnostic, `file:line:column: error: ...`);
 *   `FILE_UNTRUSTED` as root, when another user could change it.
 */
export async function loadRelayList(file: string, options: LoadRelayListOptions = {}): Promise<RelayListResult> {
  const { text: _text, ...result } = await loadRelayListFile(file, options);
  return result;
}

export interface LoadRelayListOptions {
  /** Whose files to trust. @default as root, root's (trustPolicyOf the effective user); otherwise no check */
  trust?: TrustOptions;
}

/**
 * {@link loadRelayList}, also returning the file's text (a usable list is valid UTF-8, so this is what
 * `readFile(file, 'utf8')` gives) for a caller that caches or digests it: the file is read once.
 *
 * @throws RelaySelectError as {@link loadRelayList}.
 */
export async function loadRelayListFile(
  file: string,
  options: LoadRelayListOptions = {},
): Promise<RelayListResult & { text: string }> {
  const trust = 'trust' in options ? options.trust : processTrustPolicy();
  const text = await readRelayListText(file, trust);
  const result = typeof text === 'string' ? parseRelayList(text, { file }) : text;
  if (result.rejected || typeof text !== 'string') {
    const first = result.diagnostics.find((diagnostic) => diagnostic.severity === 'error');
    const message = first === undefined ? `${file}: relay list rejected` : formatDiagnostic(first);
    throw new RelaySelectError('RELAY_LIST_INVALID', message.replace(/[\r\n]+/g, ' '), { file, hint: FORMAT_HINT });
  }
  return { ...result, text };
}

/**
 * The file's text, or the rejected result when it is not UTF-8 text. Read the way a root process reads
 * its inputs (trust.ts): a regular file only, never waited on, as root only a trusted one, and never more
 * than the list limit in memory. Its own function so that the bytes are out of reach once it returns: a
 * million-relay list's buffer (tens of MiB) is then freed while the text is parsed, instead of staying
 * until the next full garbage collection.
 */
async function readRelayListText(file: string, trust: TrustOptions | undefined): Promise<string | RelayListResult> {
  const read = await readFileBounded(file, { trust, maxBytes: RELAY_LIST_LIMITS.maxFileBytes }).catch(
    (error: unknown) => {
      throw describeReadError(error, file);
    },
  );
  if (!read.ok && read.problem.wrongKind) {
    throw new RelaySelectError(
      'RELAY_LIST_INVALID',
      `${file}: not a regular file (${read.problem.found.replace(/, not a regular file$/, '')}); expected a relay list file`,
      {
        file,
        hint: 'point --relays (or the relayList setting) at a file',
      },
    );
  }
  if (!read.ok) throw untrustedFileError('FILE_UNTRUSTED', 'relay list', file, read.problem);
  if (read.tooLarge) {
    throw new RelaySelectError('RELAY_LIST_INVALID', `${file}:1:1: error: ${describeFileTooLarge(read.size)}`, {
      file,
      hint: 'split the relay list or remove relays no endpoint can reach',
    });
  }
  return decodeRelayList(read.bytes, { file });
}

function describeReadError(error: unknown, file: string): RelaySelectError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new RelaySelectError('RELAY_LIST_MISSING', `${file}: relay list not found`, {
      cause: error,
      file,
      hint: `create it (${FORMAT_HINT}) or pass --relays FILE`,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new RelaySelectError('RELAY_LIST_INVALID', `${file}: cannot read the relay list (${reason})`, {
    cause: error,
    file,
    hint:
      code === 'EACCES' || code === 'EPERM' ? 'make the file readable by the user running relay-select' : FORMAT_HINT,
  });
}
