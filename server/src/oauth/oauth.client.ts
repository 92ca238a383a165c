import * as client from 'openid-client';
import type { Config } from '../config.js';
import { CalcomOAuthNotConfigured } from '../calcom/calcom.errors.js';

/**
 * openid-client configured for Cal.com's third-party OAuth. Cal.com publishes
 * no discovery document (no OpenID Connect, no RFC 8414), so the endpoints are
 * given explicitly: the consent page of the web app and API v2's token
 * endpoint. The client authenticates with `client_secret_post` (Cal.com reads
 * `client_id` and `client_secret` from the body).
 */
export function calcomOAuthConfiguration(config: Config, fetch: typeof globalThis.fetch): client.Configuration {
  const { oauthClientId, oauthClientSecret, appUrl, apiUrl } = config.calcom;
  if (!oauthClientId || !oauthClientSecret) throw new CalcomOAuthNotConfigured();
  const server: client.ServerMetadata = {
    issuer: appUrl,
    authorization_endpoint: `${appUrl}/auth/oauth2/authorize`,
    token_endpoint: `${apiUrl}/auth/oauth2/token`,
  };
  const c = new client.Configuration(server, oauthClientId, oauthClientSecret, client.ClientSecretPost(oauthClientSecret));
  c[client.customFetch] = (url, options) => fetch(url, options);
  c.timeout = 10;
  if (new URL(appUrl).protocol === 'http:' || new URL(apiUrl).protocol === 'http:') allowInsecureRequestsForHttpSandbox(c);
  return c;
}

/**
 * DANGER: lets openid-client talk plain HTTP. Only reached when CALCOM_APP_URL
 * or CALCOM_API_URL is an `http:` URL, which is the local Cal.com sandbox;
 * real Cal.com is HTTPS-only, and an `http:` production config would be a
 * misconfiguration that leaks tokens.
 */
function allowInsecureRequestsForHttpSandbox(c: client.Configuration): void {
  client.allowInsecureRequests(c);
}

/** The exact redirect URI registered with Cal.com. */
export function calcomRedirectUri(config: Config): string {
  return `${config.publicUrl}/v1/oauth/calcom/callback`;
}
