import { timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ConnectionsService } from '../calcom/connections.service.js';
import { scrubSecrets } from '../calcom/http.js';
import type { AppContext } from '../context.js';
import { randomToken, sha256 } from '../crypto/tokens.js';
import { AppError } from '../errors.js';
import { CalcomUnavailable } from '../calcom/calcom.errors.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { calcomOAuthConfiguration, calcomRedirectUri } from './oauth.client.js';
import {
  OAuthCallbackInvalid,
  OAuthCodeRejected,
  OAuthCodeReplayed,
  OAuthConsentDenied,
  OAuthStateBrowserMismatch,
  OAuthStateExpired,
  OAuthStateInvalid,
  OAuthTokenRefused,
} from './oauth.errors.js';
import * as repo from './oauth.repository.js';

/** How long an admin has to approve on Cal.com. */
const STATE_TTL_MS = 10 * 60 * 1000;
/** Used or expired states are kept this much longer, so a replayed callback is recognised. */
const STATE_KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * The cookie that binds a state to the browser that started the flow. `__Host-` keeps it to
 * our exact origin (Secure, Path=/, no Domain: a sibling subdomain cannot plant one);
 * SameSite=Lax still sends it on Cal.com's top-level redirect back to us.
 */
export const BROWSER_BINDING_COOKIE = '__Host-calbridge_oauth';

/** The cookie's value: SHA-256 of the whole state, base64url. Only the browser that got the start answer has it. */
function browserBinding(state: string): string {
  return sha256(state).toString('base64url');
}

export function browserBindingCookie(state: string, maxAgeSeconds = STATE_TTL_MS / 1000): string {
  return `${BROWSER_BINDING_COOKIE}=${browserBinding(state)}; Max-Age=${maxAgeSeconds}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** Throws unless `cookie` (the request's binding cookie value) is the one issued with `state`; compared in constant time. */
function assertSameBrowser(state: string | undefined, cookie: string | undefined): void {
  if (!state || !cookie) throw new OAuthStateBrowserMismatch();
  const want = Buffer.from(browserBinding(state));
  const got = Buffer.from(cookie);
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new OAuthStateBrowserMismatch();
}

/**
 * `state` is `<tenant id>.<32 random bytes, base64url>`: the tenant id picks
 * the row-level-security scope in which the state is looked up (it is not a
 * secret); only the SHA-256 of the random part is stored.
 */
const STATE_FORMAT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Connecting a tenant's own Cal.com account: authorisation code flow as a confidential client
 * (`client_secret` from the server, `state`, the exact redirect URI) and no PKCE, because Cal.com's
 * token endpoint refuses a confidential exchange that carries a `code_verifier`
 * (apps/api/v2/src/modules/auth/oauth2/inputs/exchange.input.ts) — see decision 0013.
 */
export function createOAuthService(ctx: Pick<AppContext, 'db' | 'keyring' | 'clock' | 'config' | 'fetch' | 'logger'>, connections: ConnectionsService, tenants: Pick<TenantsService, 'findById'>) {
  const { db, clock, config } = ctx;
  let configuration: oidc.Configuration | undefined;
  const oauth = () => (configuration ??= calcomOAuthConfiguration(config, ctx.fetch));

  /**
   * The Cal.com consent URL for the tenant and the `Set-Cookie` value that binds its state to
   * this browser; the state's hash is kept in Postgres (any instance may get the callback).
   */
  async function start(tenant: TenantRecord): Promise<{ url: URL; cookie: string }> {
    const c = oauth();
    const random = randomToken('', 32);
    const now = clock.now();
    await db.withTenant(tenant.id, async (tx) => {
      await repo.deleteStatesExpiredBefore(tx, new Date(now.getTime() - STATE_KEEP_MS));
      await repo.insertState(tx, {
        stateHash: sha256(random),
        tenantId: tenant.id,
        createdAt: now,
        expiresAt: new Date(now.getTime() + STATE_TTL_MS),
      });
    });
    const state = `${tenant.id}.${random}`;
    const url = oidc.buildAuthorizationUrl(c, { redirect_uri: calcomRedirectUri(config), response_type: 'code', state });
    return { url, cookie: browserBindingCookie(state) };
  }

  /** Uses up the state (single use, even when what follows fails) and returns its tenant. */
  async function consumeState(state: string | undefined): Promise<{ tenant: TenantRecord }> {
    const m = STATE_FORMAT.exec(state ?? '');
    if (!m) throw new OAuthStateInvalid();
    const tenantId = m[1]!;
    const tenant = await tenants.findById(tenantId);
    if (!tenant) throw new OAuthStateInvalid();
    const hash = sha256(m[2]!);
    const now = clock.now();
    const refused = await db.withTenant(tenant.id, async (tx) => {
      const row = await repo.lockState(tx, hash);
      if (!row) return new OAuthStateInvalid();
      if (row.usedAt) return new OAuthCodeReplayed();
      if (row.expiresAt.getTime() <= now.getTime()) return new OAuthStateExpired();
      await repo.markStateUsed(tx, hash, now);
      return null;
    });
    if (refused instanceof AppError) throw refused;
    return { tenant };
  }

  /**
   * Handles Cal.com's redirect back: checks the state is bound to this browser (`bindingCookie`,
   * the value of {@link BROWSER_BINDING_COOKIE}), exchanges the code, stores the tokens, registers the webhook.
   */
  async function callback(query: Record<string, unknown>, bindingCookie: string | undefined): Promise<{ tenant: TenantRecord; username: string }> {
    const q = (k: string) => (typeof query[k] === 'string' ? (query[k]) : undefined);
    const state = q('state');
    // Before anything else, and without using the state up: a link opened in another browser
    // is refused and leaves the real admin's flow intact.
    if (!STATE_FORMAT.test(state ?? '')) throw new OAuthStateInvalid();
    assertSameBrowser(state, bindingCookie);
    if (q('error')) {
      // The state is still used up, so this consent round cannot be resumed.
      await consumeState(state).catch(() => undefined);
      if (q('error') === 'access_denied') throw new OAuthConsentDenied();
      throw new OAuthCallbackInvalid();
    }
    const { tenant } = await consumeState(state);
    const code = q('code');
    if (!code) throw new OAuthCallbackInvalid();
    const current = new URL(calcomRedirectUri(config));
    current.searchParams.set('code', code);
    current.searchParams.set('state', state!);
    let tokens: oidc.TokenEndpointResponse;
    try {
      // No pkceCodeVerifier: openid-client then sends exactly client_id, client_secret, grant_type,
      // code and redirect_uri, the confidential shape Cal.com's token.input.pipe.ts accepts.
      tokens = await oidc.authorizationCodeGrant(oauth(), current, { expectedState: state! });
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError) {
        const description = scrubSecrets(err.error_description ?? '', [code]);
        if (err.error === 'invalid_grant') throw new OAuthCodeRejected(new Error(`invalid_grant: ${description}`));
        throw new OAuthTokenRefused(err.error, description, new Error(`${err.error}: ${description}`));
      }
      throw new CalcomUnavailable(new Error(`code exchange failed: ${scrubSecrets(String((err as Error)?.message ?? err), [code])}`));
    }
    if (!tokens.refresh_token) throw new CalcomUnavailable(new Error('Cal.com issued no refresh token'));
    const { username } = await connections.connectOAuth(tenant, {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      accessExpiresAt: new Date(clock.now().getTime() + (tokens.expires_in ?? 1800) * 1000),
      refreshExpiresAt: null,
    });
    return { tenant, username };
  }

  return { start, callback };
}

export type OAuthService = ReturnType<typeof createOAuthService>;
