/**
 * The peers' shared secret (peer.keyFile): trusted like every secret of a root process (src/trust.ts —
 * owned by the effective user, mode 0600, no directory above it writable by others), at least 16 bytes.
 */
import { readFile } from 'node:fs/promises';
import { RelaySelectError } from '../errors.js';
import { describeTrustProblem, findTrustProblem } from '../trust.js';

/** Shorter keys are guessable; the HMAC uses all of a longer one. */
const MIN_KEY_BYTES = 16;
/** A key file is a line of base64 or hex; anything this large is the wrong file. */
const MAX_KEY_FILE_BYTES = 4096;
const KEY_RECIPE = 'head -c 32 /dev/urandom | base64 > FILE && chmod 600 FILE';

/**
 * Reads the key: the file's bytes without surrounding white space (the same bytes on every peer).
 * @throws RelaySelectError CONFIG_UNREADABLE (missing, unreadable) or CONFIG_INVALID (not trusted, too
 *   short or too long), each with the command that fixes it.
 */
export async function loadPeerKey(keyFile: string, effectiveUid: number): Promise<Buffer> {
  let problem;
  try {
    problem = findTrustProblem(keyFile, { uid: effectiveUid, secret: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RelaySelectError('CONFIG_UNREADABLE', `peer.keyFile ${keyFile}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      cause: error,
      file: keyFile,
      hint: `create the key once and copy it to every peer: ${KEY_RECIPE.replace(/FILE/g, keyFile)}`,
    });
  }
  if (problem !== null) {
    throw new RelaySelectError('CONFIG_INVALID', `peer.keyFile: ${describeTrustProblem(problem)}`, { file: keyFile, hint: problem.fix });
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(keyFile);
  } catch (error) {
    throw new RelaySelectError('CONFIG_UNREADABLE', `peer.keyFile ${keyFile}: ${(error as Error).message}`, { cause: error, file: keyFile });
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) {
    throw new RelaySelectError('CONFIG_INVALID', `peer.keyFile ${keyFile}: ${bytes.length} bytes; a key file holds at most ${MAX_KEY_FILE_BYTES}`, { file: keyFile, hint: `is it the right file? ${KEY_RECIPE.replace(/FILE/g, keyFile)}` });
  }
  const key = Buffer.from(bytes.toString('latin1').trim(), 'latin1');
  if (key.length < MIN_KEY_BYTES) {
    throw new RelaySelectError('CONFIG_INVALID', `peer.keyFile ${keyFile}: the key has ${key.length} bytes; at least ${MIN_KEY_BYTES} are needed`, {
      file: keyFile,
      hint: KEY_RECIPE.replace(/FILE/g, keyFile),
    });
  }
  return key;
}
