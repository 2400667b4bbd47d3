/**
 * The peers' shared secret (peer.keyFile): trusted like every secret of relay-select (src/trust.ts, as for
 * register.tls.key — owned by the effective user, mode 0600, no directory above it writable by others),
 * whoever runs the agent; read as every input is (a regular file, never waited on, bounded); at least 16 bytes.
 */
import { RelaySelectError } from '../errors.js';
import { readFileBounded, untrustedFileError } from '../trust.js';

/** Shorter keys are guessable; the HMAC uses all of a longer one. */
const MIN_KEY_BYTES = 16;
/** A key file is a line of base64 or hex; anything this large is the wrong file. */
const MAX_KEY_FILE_BYTES = 4096;
/** The command that makes a good key in `keyFile`, for the hints. */
function keyRecipe(keyFile: string): string {
  return `head -c 32 /dev/urandom | base64 > ${keyFile} && chmod 600 ${keyFile}`;
}

/**
 * Reads the key: the file's bytes without surrounding white space (the same bytes on every peer).
 * @throws RelaySelectError CONFIG_UNREADABLE (missing, unreadable), FILE_UNTRUSTED (another user could
 *   read or change it, or not a regular file) or CONFIG_INVALID (too short or too long), each with the fix.
 */
export async function loadPeerKey(keyFile: string, effectiveUid: number): Promise<Buffer> {
  let read;
  try {
    read = await readFileBounded(keyFile, { trust: { uid: effectiveUid, secret: true }, maxBytes: MAX_KEY_FILE_BYTES });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RelaySelectError(
      'CONFIG_UNREADABLE',
      `peer.keyFile ${keyFile}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      {
        cause: error,
        file: keyFile,
        hint: `create the key once and copy it to every peer: ${keyRecipe(keyFile)}`,
      },
    );
  }
  if (!read.ok) throw untrustedFileError('FILE_UNTRUSTED', 'peer.keyFile', keyFile, read.problem);
  if (read.tooLarge) {
    throw new RelaySelectError(
      'CONFIG_INVALID',
      `peer.keyFile ${keyFile}: ${read.size} bytes; a key file holds at most ${MAX_KEY_FILE_BYTES}`,
      { file: keyFile, hint: `is it the right file? ${keyRecipe(keyFile)}` },
    );
  }
  const key = Buffer.from(read.bytes.toString('latin1').trim(), 'latin1');
  if (key.length < MIN_KEY_BYTES) {
    throw new RelaySelectError(
      'CONFIG_INVALID',
      `peer.keyFile ${keyFile}: the key has ${key.length} bytes; at least ${MIN_KEY_BYTES} are needed`,
      {
        file: keyFile,
        hint: keyRecipe(keyFile),
      },
    );
  }
  return key;
}
