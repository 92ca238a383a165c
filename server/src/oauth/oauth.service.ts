import * as oidc from 'openid-client';
import type { ConnectionsService } from '../calcom/connections.service.js';
import { scrubSecrets } from '../calcom/http.js';
import type { AppContext } from '../context.js';
import { randomToken, sha256 } from '../crypto/tokens.js';
import {
  AppError,
  CalcomUnavailable,
  OAuthCallbackInvalid,
  OAuthCodeRejected,
  OAuthCodeReplayed,
  OAuthConsentDenied,
  OAuthStateExpired,
  OAuthStateInvalid,
} from '../errors.js';
import { findTenantById } from '../tenants/tenants.repository.js';
import type { TenantRecord } from '../tenants/tenants.service.js';
import { calcomOAuthConfiguration, calcomRedirectUri } from './oauth.client.js';
import * as repo from './oauth.repository.js';

/** How long an admin has to approve on Cal.com. */
export const STATE_TTL_MS = 10 * 60 * 1000;
/** Used or expired states are kept this much longer, so a replayed callback is recognised. */
const STATE_KEEP_MS = 24 * 60 * 60 * 1000;
const PKCE_PURPOSE = 'calcom_oauth_pkce';

/**
 * `state` is `<tenant id>.<32 random bytes, base64url>`: the tenant id picks
 * the row-level-security scope in which the state is looked up (it is not a
 * secret); only the SHA-256 of the random part is stored.
 */
const STATE_FORMAT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

/** Connecting a tenant's own Cal.com account: authorisation code flow with PKCE S256. */
export function createOAuthService(ctx: Pick<AppContext, 'db' | 'keyring' | 'clock' | 'config' | 'fetch' | 'logger'>, connections: ConnectionsService) {
  const { db, keyring, clock, config } = ctx;
  let configuration: oidc.Configuration | undefined;
  const oauth = () => (configuration ??= calcomOAuthConfiguration(config, ctx.fetch));

  /** The Cal.com consent URL for the tenant; the state and PKCE verifier are kept in Postgres (any instance may get the callback). */
  async function start(tenant: TenantRecord): Promise<URL> {
    const c = oauth();
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const random = randomToken('', 32);
    const now = clock.now();
    await db.withTenant(tenant.id, async (tx) => {
      await repo.deleteStatesExpiredBefore(tx, new Date(now.getTime() - STATE_KEEP_MS));
      await repo.insertState(tx, {
        stateHash: sha256(random),
        tenantId: tenant.id,
        codeVerifierSealed: keyring.encrypt(verifier, { tenantId: tenant.id, purpose: PKCE_PURPOSE }),
        createdAt: now,
        expiresAt: new Date(now.getTime() + STATE_TTL_MS),
      });
    });
    return oidc.buildAuthorizationUrl(c, {
      redirect_uri: calcomRedirectUri(config),
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: `${tenant.id}.${random}`,
    });
  }

  /** Uses up the state (single use, even when what follows fails) and returns its tenant and PKCE verifier. */
  async function consumeState(state: string | undefined): Promise<{ tenant: TenantRecord; verifier: string }> {
    const m = STATE_FORMAT.exec(state ?? '');
    if (!m) throw new OAuthStateInvalid();
    const tenantId = m[1]!;
    const tenant = await db.withPlatform((tx) => findTenantById(tx, tenantId));
    if (!tenant) throw new OAuthStateInvalid();
    const hash = sha256(m[2]!);
    const now = clock.now();
    const verifier = await db.withTenant(tenant.id, async (tx) => {
      const row = await repo.lockState(tx, hash);
      if (!row) return new OAuthStateInvalid();
      if (row.usedAt) return new OAuthCodeReplayed();
      if (row.expiresAt.getTime() <= now.getTime()) return new OAuthStateExpired();
      await repo.markStateUsed(tx, hash, now);
      return keyring.decrypt(row.codeVerifierSealed, { tenantId: tenant.id, purpose: PKCE_PURPOSE });
    });
    if (verifier instanceof AppError) throw verifier;
    return { tenant, verifier };
  }

  /** Handles Cal.com's redirect back: checks, exchanges the code, stores the tokens, registers the webhook. */
  async function callback(query: Record<string, unknown>): Promise<{ tenant: TenantRecord; username: string }> {
    const q = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
    const state = q('state');
    if (q('error')) {
      // The state is still used up, so this consent round cannot be resumed.
      await consumeState(state).catch(() => undefined);
      if (q('error') === 'access_denied') throw new OAuthConsentDenied();
      throw new OAuthCallbackInvalid();
    }
    const { tenant, verifier } = await consumeState(state);
    const code = q('code');
    if (!code) throw new OAuthCallbackInvalid();
    const current = new URL(calcomRedirectUri(config));
    current.searchParams.set('code', code);
    current.searchParams.set('state', state!);
    let tokens: oidc.TokenEndpointResponse;
    try {
      tokens = await oidc.authorizationCodeGrant(oauth(), current, { pkceCodeVerifier: verifier, expectedState: state! });
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') {
        throw new OAuthCodeRejected(new Error(`invalid_grant: ${scrubSecrets(err.error_description ?? '', [code])}`));
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
