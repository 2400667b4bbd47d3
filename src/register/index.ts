import type { Settings } from '../config/settings.js';
import { registerCommand, requireRegisterCommand } from './command.js';
import { registerHttp } from './http.js';
import { loadTlsMaterial, type TlsMaterial } from './tls.js';
import type { ReadFile, RegisterOutcome, RegistrationCandidate, RegistrationFacts } from './types.js';
import { buildRegisterUrl } from './url.js';

export { checkRelayHealth, checkRelayHealthDetailed, type CheckRelayHealthDeps } from './health.js';

export type Registrar = (candidate: RegistrationCandidate) => Promise<RegisterOutcome>;

export interface RegistrarDeps {
  readFile?: ReadFile;
  /** TLS files already read; when absent they are read on first https use. */
  tls?: TlsMaterial;
  /** Stops a registration in flight (RelaySelectError ABORTED). */
  signal?: AbortSignal;
}

/** Whether registration will speak https, given the template and the scheme. */
function usesHttps(settings: Settings): boolean {
  return (
    buildRegisterUrl(settings.register.url, settings.register.scheme, { host: 'relay.invalid', port: 1 }).protocol ===
    'https:'
  );
}

/**
 * A registration function for the selection, dispatching on `register.mode` (DESIGN §8): `http`
 * posts the registration, `command` runs the hook, `none` only records the choice. TLS files are
 * read once, on first use, and shared by every attempt of the run.
 */
export function createRegistrar(settings: Settings, facts: RegistrationFacts, deps: RegistrarDeps = {}): Registrar {
  const register = settings.register;
  let tls: Promise<TlsMaterial> | undefined = deps.tls === undefined ? undefined : Promise.resolve(deps.tls);
  return async (candidate) => {
    switch (register.mode) {
      case 'none':
        return { status: 'registered', detail: 'recorded only' };
      case 'command':
        return registerCommand(candidate, facts, register, { signal: deps.signal });
      case 'http': {
        if (usesHttps(settings)) tls ??= loadTlsMaterial(register.tls, deps.readFile);
        return registerHttp(
          { host: candidate.relay.host, port: candidate.relay.port, address: candidate.address },
          { ...facts, distance: candidate.distance, rttMs: candidate.rttMs, pool: candidate.pool },
          register,
          { tls: tls === undefined ? undefined : await tls, signal: deps.signal },
        );
      }
    }
  };
}

/**
 * Like `createRegistrar`, but checks the registration settings first (URL template, command, TLS
 * files), so a bad configuration stops the run with CONFIG_INVALID before any probing instead of
 * failing every candidate one by one.
 */
export async function prepareRegistrar(
  settings: Settings,
  facts: RegistrationFacts,
  deps: RegistrarDeps = {},
): Promise<Registrar> {
  const register = settings.register;
  if (register.mode === 'command') requireRegisterCommand(register);
  if (register.mode !== 'http') return createRegistrar(settings, facts, deps);
  const tls = usesHttps(settings) ? await loadTlsMaterial(register.tls, deps.readFile) : undefined;
  return createRegistrar(settings, facts, { ...deps, tls });
}
