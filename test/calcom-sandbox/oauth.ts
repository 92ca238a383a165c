import { createHash, timingSafeEqual } from 'node:crypto';
import type { SandboxContext } from './context.js';
import { ApiError, formOrJsonBody, OAuthError, sendHtml, sendJson, sendSuccess, type RequestContext, type Router } from './http.js';
import { randomToken } from './ids.js';
import { signJwt } from './jwt.js';
import { LIFETIMES } from './seed.js';
import type { SandboxOAuthClient } from './types.js';

/**
 * Cal.com OAuth for third-party apps: the web app's consent page
 * (`/auth/oauth2/authorize`, apps/web/modules/auth/oauth2/authorize-view.tsx)
 * and API v2's token endpoint (`POST /v2/auth/oauth2/token`, OAuthService).
 *
 * Cal.com publishes no OpenID Connect / RFC 8414 discovery document, so the
 * sandbox does not serve one either: configure clients with explicit
 * authorization and token endpoints.
 *
 * Where the sandbox is stricter than Cal.com, on purpose (the brief asks for it):
 * - `state` is required (Cal.com passes it through when present);
 * - PKCE S256 is required for every client (Cal.com requires it for public
 *   clients and enforces it for confidential ones only when a challenge was sent);
 * - a client may register several redirect URIs (Cal.com stores one); matching is exact.
 */
export function registerOAuth(router: Router, sx: SandboxContext): void {
  router.on('GET', '/auth/oauth2/authorize', (ctx) => authorize(ctx, sx));
  router.on('POST', '/v2/auth/oauth2/token', (ctx) => token(ctx, sx));
  router.on('GET', '/v2/auth/oauth2/clients/:clientId', (ctx) => {
    const client = sx.store.oauthClients.get(ctx.params['clientId']!);
    if (!client) throw new ApiError(404, 'unauthorized_client');
    sendSuccess(ctx.res, 200, {
      client_id: client.clientId,
      redirect_uris: client.redirectUris,
      name: client.name,
      logo: null,
      is_trusted: false,
      client_type: client.clientType,
    });
  });
}

function authorize(ctx: RequestContext, sx: SandboxContext): void {
  sx.stats.authorizeRequests += 1;
  const q = ctx.url.searchParams;
  const client = sx.store.oauthClients.get(q.get('client_id') ?? '');
  if (!client) {
    errorPage(ctx, 'OAuth client with ID not found', 'client_not_found');
    return;
  }
  const redirectUri = q.get('redirect_uri') ?? '';
  // Never redirect to an unregistered URI: show an error page instead (RFC 6749 §4.1.2.1).
  if (!client.redirectUris.includes(redirectUri)) {
    errorPage(ctx, "redirect_uri does not match OAuth client's redirect URI", 'redirect_uri_mismatch');
    return;
  }
  const state = q.get('state');
  const fail = (error: string, description?: string): void => {
    const url = new URL(redirectUri);
    url.searchParams.set('error', error);
    if (description) url.searchParams.set('error_description', description);
    if (state) url.searchParams.set('state', state);
    redirect(ctx, url.toString());
  };
  if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
  if (!state) return fail('invalid_request', 'state_required');
  const challenge = q.get('code_challenge');
  if (!challenge) return fail('invalid_request', 'pkce_required');
  if (q.get('code_challenge_method') !== 'S256') return fail('invalid_request', 'invalid_code_challenge_method');
  if (sx.oauth.deny) return fail('access_denied');
  const user = sx.store.userByUsername(sx.oauth.username);
  if (!user) {
    errorPage(ctx, `The sandbox's approving user ${sx.oauth.username} does not exist`, 'server_error');
    return;
  }
  const code = randomToken(40);
  sx.store.authCodes.set(code, {
    clientId: client.clientId,
    userId: user.id,
    redirectUri,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    expiresAt: sx.clock().getTime() + LIFETIMES.authCodeMs,
  });
  const url = new URL(redirectUri);
  url.searchParams.set('code', code);
  url.searchParams.set('state', state);
  redirect(ctx, url.toString());
}

function token(ctx: RequestContext, sx: SandboxContext): void {
  sx.stats.tokenRequests += 1;
  const body = formOrJsonBody(ctx);
  const clientId = body['client_id'];
  if (!clientId) throw new OAuthError(400, 'invalid_request', 'client_id is required');
  const client = sx.store.oauthClients.get(clientId);
  if (!client) throw new OAuthError(401, 'invalid_client', 'client_not_found');

  if (body['grant_type'] === 'authorization_code') {
    const code = body['code'];
    const redirectUri = body['redirect_uri'];
    if (!code || !redirectUri) throw new OAuthError(400, 'invalid_request', 'code and redirect_uri are required');
    if (!client.redirectUris.includes(redirectUri)) throw new OAuthError(400, 'invalid_grant', 'redirect_uri_mismatch');
    checkClientSecret(client, body['client_secret']);
    const grant = sx.store.authCodes.get(code);
    // Single use: the code is gone after the first exchange attempt, good or bad.
    sx.store.authCodes.delete(code);
    if (!grant || grant.clientId !== clientId || grant.expiresAt <= sx.clock().getTime()) {
      throw new OAuthError(400, 'invalid_grant', 'code_invalid_or_expired');
    }
    if (grant.redirectUri !== redirectUri) throw new OAuthError(400, 'invalid_grant', 'redirect_uri_mismatch');
    const verifier = body['code_verifier'];
    if (!verifier) throw new OAuthError(400, 'invalid_request', 'pkce_missing_parameters_or_invalid_method');
    const computed = createHash('sha256').update(verifier).digest('base64url');
    if (!safeEqual(computed, grant.codeChallenge)) throw new OAuthError(400, 'invalid_grant', 'pkce_verification_failed');
    sx.stats.codeExchanges += 1;
    sendTokens(ctx, sx, client.clientId, grant.userId, randomToken(12));
    return;
  }

  if (body['grant_type'] === 'refresh_token') {
    const refreshToken = body['refresh_token'];
    if (!refreshToken) throw new OAuthError(400, 'invalid_request', 'refresh_token is required');
    checkClientSecret(client, body['client_secret']);
    const issued = sx.store.oauthRefreshTokens.get(refreshToken);
    if (!issued || issued.expiresAt <= sx.clock().getTime()) throw new OAuthError(400, 'invalid_grant', 'invalid_refresh_token');
    if (issued.clientId !== clientId) throw new OAuthError(400, 'invalid_grant', 'client_id_mismatch');
    const family = issued.familyId!;
    if (sx.store.revokedFamilies.has(family)) throw new OAuthError(400, 'invalid_grant', 'refresh_token_revoked');
    if (issued.rotated) {
      if (sx.oauth.revokeFamilyOnReuse) revokeFamily(sx, family);
      throw new OAuthError(400, 'invalid_grant', 'refresh_token_revoked');
    }
    issued.rotated = true;
    sx.stats.tokenRefreshes += 1;
    sendTokens(ctx, sx, clientId, issued.userId, family);
    return;
  }

  throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
}

function checkClientSecret(client: SandboxOAuthClient, secret: string | undefined): void {
  if (client.clientType !== 'CONFIDENTIAL') return;
  if (!secret || !client.clientSecret || !safeEqual(secret, client.clientSecret)) {
    throw new OAuthError(401, 'invalid_client', 'invalid_client_credentials');
  }
}

/** `OAuth2TokensDto`: the token endpoint answers without the `{status, data}` envelope. */
function sendTokens(ctx: RequestContext, sx: SandboxContext, clientId: string, userId: number, familyId: string): void {
  const now = sx.clock().getTime();
  const accessToken = signJwt({ userId, token_type: 'Access Token', clientId, iat: Math.floor(now / 1000) });
  const refreshToken = signJwt({ userId, token_type: 'Refresh Token', clientId, iat: Math.floor(now / 1000) });
  sx.store.oauthAccessTokens.set(accessToken, { userId, clientId, familyId, expiresAt: now + LIFETIMES.oauthAccessSeconds * 1000 });
  sx.store.oauthRefreshTokens.set(refreshToken, {
    userId,
    clientId,
    familyId,
    expiresAt: now + LIFETIMES.oauthRefreshSeconds * 1000,
    rotated: false,
  });
  sendJson(
    ctx.res,
    200,
    { access_token: accessToken, token_type: 'bearer', refresh_token: refreshToken, expires_in: LIFETIMES.oauthAccessSeconds },
    { 'cache-control': 'no-store', pragma: 'no-cache' },
  );
}

function revokeFamily(sx: SandboxContext, familyId: string): void {
  sx.store.revokedFamilies.add(familyId);
  for (const map of [sx.store.oauthAccessTokens, sx.store.oauthRefreshTokens]) {
    for (const [k, t] of map) if (t.familyId === familyId) map.delete(k);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function redirect(ctx: RequestContext, location: string): void {
  ctx.res.writeHead(303, { location, 'cache-control': 'no-store' });
  ctx.res.end();
}

function errorPage(ctx: RequestContext, message: string, reason: string): void {
  const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  sendHtml(
    ctx.res,
    400,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>` +
      `<body><main><h1>Authorization error</h1><p>${esc(message)}</p><p><code>${esc(reason)}</code></p></main></body></html>`,
    { 'cache-control': 'no-store' },
  );
}
