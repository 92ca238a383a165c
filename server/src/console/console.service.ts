import * as client from 'openid-client';
import type { AppContext } from '../context.js';
import { randomToken, safeEqual, sha256 } from '../crypto/tokens.js';
import type { AdminPrincipal } from '../admin/admin.auth.js';
import { IdentityProviderUnavailable, NoConsoleRole, SignInFailed } from './console.errors.js';
import * as repo from './console.repository.js';
import { accessOf, claimAt, hasAnyRole, rolesFromClaim, type ConsoleAccess } from './roles.js';
import { createOidcClient, type OidcClient } from './oidc.js';

/** A sign-in has this long between leaving for the identity provider and coming back. */
const LOGIN_TTL_MS = 10 * 60_000;
/** The idle expiry moves forward at most this often (one write per minute, not per request). */
const TOUCH_EVERY_MS = 60_000;
/** Additional authenticated data for the key ring: console secrets belong to no tenant. */
const PLATFORM = { tenantId: 'platform', purpose: 'console-oidc' } as const;

export interface ConsoleSession {
  subject: string;
  roles: string[];
  access: ConsoleAccess;
  csrfToken: string;
  expiresAt: Date;
  idleExpiresAt: Date;
}

/** The CSRF token of a session: derived from the session's own secret, so only its holder (HttpOnly cookie) can know it. */
function csrfTokenOf(sessionSecret: string): string {
  return sha256(`calbridge-console-csrf:${sessionSecret}`).toString('base64url');
}

export function csrfTokenMatches(sessionSecret: string, presented: string): boolean {
  return safeEqual(csrfTokenOf(sessionSecret), presented);
}

/** Where a sign-in may return to: a console path, never another site. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/admin(?:\/[A-Za-z0-9._~\-/]*)?$/.test(value) && !value.includes('//') ? value : '/admin/';
}

/** What the admin API sees of a console person (admin.auth.ts): every tenant, or exactly their tenants. */
export function principalOf(session: ConsoleSession): AdminPrincipal {
  const person = { subject: session.subject };
  if (session.access.admin) return { tokenId: null, tenantId: null, tenantSlug: null, person };
  return { tokenId: null, tenantId: null, tenantSlug: null, person, tenantSlugs: [...session.access.managed, ...session.access.viewed] };
}

export function createConsoleService(ctx: Pick<AppContext, 'config' | 'db' | 'clock' | 'keyring' | 'fetch' | 'logger'>, oidc: OidcClient = createOidcClient(ctx.config, ctx.fetch)) {
  const { config, db, clock, keyring } = ctx;
  const redirectUri = `${config.publicUrl}/admin/callback`;

  /** Starts a sign-in: a fresh state, nonce and PKCE verifier, kept server-side under the login cookie's hash. */
  async function startLogin(returnTo: unknown): Promise<{ loginCookie: string; url: string }> {
    const c = await oidc.configuration();
    const loginCookie = randomToken('', 32);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const now = clock.now();
    await db.withPlatform((tx) =>
      repo.insertLoginTransaction(tx, sha256(loginCookie), {
        state,
        nonce,
        codeVerifier: keyring.encrypt(verifier, PLATFORM),
        returnTo: safeReturnTo(returnTo),
        createdAt: now,
        expiresAt: new Date(now.getTime() + LOGIN_TTL_MS),
      }),
    );
    const url = client.buildAuthorizationUrl(c, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    return { loginCookie, url: url.href };
  }

  /** Finishes a sign-in: checks state, nonce and PKCE through openid-client, reads the roles, opens a session. */
  async function finishLogin(loginCookie: string | undefined, currentUrl: URL): Promise<{ sessionSecret: string; returnTo: string }> {
    if (!loginCookie) throw new SignInFailed();
    const t = await db.withPlatform((tx) => repo.takeLoginTransaction(tx, sha256(loginCookie)));
    const now = clock.now();
    if (!t || t.expiresAt <= now) throw new SignInFailed();
    const c = await oidc.configuration();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(c, currentUrl, {
        pkceCodeVerifier: keyring.decrypt(t.codeVerifier, PLATFORM),
        expectedState: t.state,
        expectedNonce: t.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      // A refused code, a state or nonce mismatch, a bad ID token: the person starts again. The network: they retry.
      if (err instanceof client.ClientError && /fetch|timeout|network|ECONN/i.test(`${err.code ?? ''} ${err.message}`)) throw new IdentityProviderUnavailable(err);
      throw new SignInFailed(err);
    }
    const claims = tokens.claims();
    if (!claims) throw new SignInFailed();
    let rolesValue = claimAt(claims, config.oidc.rolesClaim);
    if (rolesValue === undefined && c.serverMetadata().userinfo_endpoint) {
      // Many providers (oidc-provider among them) put scope claims in userinfo, not in the ID token.
      try {
        const info = await client.fetchUserInfo(c, tokens.access_token, claims.sub);
        rolesValue = claimAt(info, config.oidc.rolesClaim);
      } catch (err) {
        throw new IdentityProviderUnavailable(err);
      }
    }
    const roles = rolesFromClaim(rolesValue);
    if (!hasAnyRole(accessOf(roles))) throw new NoConsoleRole();
    const sessionSecret = randomToken('', 32);
    const expiresAt = new Date(now.getTime() + config.oidc.maxSeconds * 1000);
    await db.withPlatform((tx) =>
      repo.insertSession(tx, sha256(sessionSecret), {
        subject: claims.sub,
        issuer: String(claims.iss),
        roles,
        idToken: tokens.id_token ? keyring.encrypt(tokens.id_token, PLATFORM) : null,
        createdAt: now,
        lastSeenAt: now,
        idleExpiresAt: new Date(Math.min(now.getTime() + config.oidc.idleSeconds * 1000, expiresAt.getTime())),
        expiresAt,
      }),
    );
    // No subject in the log: some providers use the email as `sub`. The audit log keeps who acted.
    ctx.logger.info({ roles: roles.length, admin: accessOf(roles).admin }, 'console sign-in');
    return { sessionSecret, returnTo: t.returnTo };
  }

  /** The session behind a cookie, or null when there is none or it has expired (idle or absolute). */
  async function authenticate(sessionSecret: string | undefined): Promise<ConsoleSession | null> {
    if (!sessionSecret || sessionSecret.length > 200) return null;
    const hash = sha256(sessionSecret);
    const now = clock.now();
    const s = await db.withPlatform((tx) => repo.findSession(tx, hash));
    if (!s) return null;
    if (s.expiresAt <= now || s.idleExpiresAt <= now) {
      await db.withPlatform((tx) => repo.deleteSession(tx, hash));
      return null;
    }
    let idleExpiresAt = s.idleExpiresAt;
    if (now.getTime() - s.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
      idleExpiresAt = new Date(Math.min(now.getTime() + config.oidc.idleSeconds * 1000, s.expiresAt.getTime()));
      await db.withPlatform((tx) => repo.touchSession(tx, hash, now, idleExpiresAt));
    }
    return { subject: s.subject, roles: s.roles, access: accessOf(s.roles), csrfToken: csrfTokenOf(sessionSecret), expiresAt: s.expiresAt, idleExpiresAt };
  }

  /** Ends the session; answers where the browser goes next (the IdP's end-session endpoint when it has one). */
  async function logout(sessionSecret: string | undefined): Promise<string> {
    const signedOut = `${config.publicUrl}/admin/signed-out`;
    if (!sessionSecret) return signedOut;
    const s = await db.withPlatform((tx) => repo.deleteSession(tx, sha256(sessionSecret)));
    if (!s) return signedOut;
    try {
      const c = await oidc.configuration();
      if (!c.serverMetadata().end_session_endpoint) return signedOut;
      const params: Record<string, string> = { post_logout_redirect_uri: signedOut, client_id: c.clientMetadata().client_id };
      if (s.idToken) params.id_token_hint = keyring.decrypt(s.idToken, PLATFORM);
      return client.buildEndSessionUrl(c, params).href;
    } catch {
      // The session is gone either way; without the IdP, sign-out stays local.
      return signedOut;
    }
  }

  /** Records one console action under the tenant it touched (or the directory). Never throws: an audit failure is logged. */
  async function audit(tenantId: string | null, action: Omit<repo.ConsoleAuditRow, 'at'>): Promise<void> {
    const row = { ...action, at: clock.now() };
    try {
      if (tenantId) await db.withTenant(tenantId, (tx) => repo.insertAudit(tx, tenantId, row));
      else await db.withPlatform((tx) => repo.insertAudit(tx, null, row));
    } catch (err) {
      ctx.logger.error({ err: (err as Error).message, route: row.route }, 'console audit write failed');
    }
  }

  async function auditLog(tenantId: string, q: { limit: number; cursor?: string }) {
    const rows = await db.withTenant(tenantId, (tx) => repo.listAudit(tx, q.limit + 1, q.cursor ?? null));
    const data = rows.slice(0, q.limit).map((r) => ({ id: r.id, at: r.at.toISOString(), subject: r.subject, method: r.method, route: r.route, status: r.status }));
    return { data, nextCursor: rows.length > q.limit ? data.at(-1)!.id : null };
  }

  return { startLogin, finishLogin, authenticate, logout, audit, auditLog };
}

export type ConsoleService = ReturnType<typeof createConsoleService>;
