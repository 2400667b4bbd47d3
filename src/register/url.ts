import { isIP } from 'node:net';
import { RelaySelectError } from '../errors.js';
import type { RegisterTarget } from './types.js';

/** Host without the brackets an IPv6 literal may carry in a relay list or URL. */
export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Host as it must appear in a URL authority: IPv6 literals bracketed. */
function formatUrlHost(host: string): string {
  const bare = stripBrackets(host);
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}

/**
 * Fills the `register.url` template (`{scheme}`, `{host}`, `{port}`) for one relay.
 * Throws CONFIG_INVALID when the result is not an http(s) URL: a bad template is a setting error,
 * not a relay failure.
 */
export function buildRegisterUrl(template: string, scheme: 'http' | 'https', target: RegisterTarget): URL {
  const text = template
    .replaceAll('{scheme}', scheme)
    .replaceAll('{host}', formatUrlHost(target.host))
    .replaceAll('{port}', String(target.port));
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new RelaySelectError(
      'CONFIG_INVALID',
      `register.url: "${template}" does not give a valid URL (got "${text}")`,
      {
        cause: error,
        hint: 'use a template like {scheme}://{host}:{port}/relay-select/v1/register',
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RelaySelectError(
      'CONFIG_INVALID',
      `register.url: "${template}" must be an http or https URL (got ${url.protocol})`,
    );
  }
  return url;
}

/**
 * The health endpoint next to the registration endpoint: `…/v1/register` → `…/v1/health`.
 * Resolving `health` against the register URL keeps a custom prefix (`/api/register` → `/api/health`).
 */
export function buildHealthUrl(registerUrl: URL): URL {
  const url = new URL('health', registerUrl);
  url.search = '';
  return url;
}
