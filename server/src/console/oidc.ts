import * as client from 'openid-client';
import type { Config } from '../config.js';
import { ConsoleNotConfigured, IdentityProviderUnavailable } from './console.errors.js';

/** Plain-HTTP issuers are allowed on loopback only: the development IdP `npm start` runs (dev-idp/). */
function isLoopbackHttp(issuer: string): boolean {
  const u = new URL(issuer);
  return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}

export interface OidcClient {
  /** The discovered configuration; discovery is retried on the next call after a failure. */
  configuration(): Promise<client.Configuration>;
}

/**
 * openid-client against the configured issuer, discovered once (RFC 8414 /
 * OpenID Discovery) and kept. A confidential client (`client_secret_basic`)
 * when a secret is configured, a public one (PKCE only) otherwise.
 */
export function createOidcClient(config: Config, fetch: typeof globalThis.fetch): OidcClient {
  const { issuer, clientId, clientSecret } = config.oidc;
  let pending: Promise<client.Configuration> | null = null;
  async function discover(): Promise<client.Configuration> {
    if (!issuer || !clientId) throw new ConsoleNotConfigured();
    const auth = clientSecret ? client.ClientSecretBasic(clientSecret) : client.None();
    const insecure = isLoopbackHttp(issuer);
    try {
      const c = await client.discovery(new URL(issuer), clientId, undefined, auth, {
        // DANGER (loopback only): the development IdP speaks plain HTTP on this machine.
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
        timeout: 10,
        [client.customFetch]: (url: string, options: client.CustomFetchOptions) => fetch(url, options),
      });
      return c;
    } catch (err) {
      throw new IdentityProviderUnavailable(err);
    }
  }
  return {
    configuration() {
      pending ??= discover().catch((err: unknown) => {
        pending = null;
        throw err;
      });
      return pending;
    },
  };
}
