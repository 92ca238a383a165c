import { createHash, timingSafeEqual } from 'node:crypto';
import type { SandboxContext } from './context.js';
import { ApiError, OAuthError, sendHtml, sendJson, sendSuccess, type RequestContext, type Router } from './http.js';
import { randomToken } from './ids.js';
import { signJwt } from './jwt.js';
import { LIFETIMES } from './seed.js';
import type { SandboxOAuthClient } from './types.js';

/**
 * Cal.com OAuth for third-party apps: the web app's consent page
 * (`/auth/oauth2/authorize`, apps/web/modules/auth/oauth2/authorize-view.tsx)
 * and API v2's token endpoint (`POST /v2/auth/oauth2/token`).
 *
 * Behaviour follows packages/features/oauth/services/OAuthService.ts:
 * - `state` is optional and passed back unchanged when present;
 * - PKCE is required for PUBLIC clients; a CONFIDENTIAL client may send a
 *   challenge, and then the code can only be exchanged with a verifier, which
 *   the confidential exchange body does not allow (exchange.input.ts), so such
 *   a code is dead for a confidential client;
 * - a client that Cal.com has not APPROVED yet works only for its owner's
 *   account (`ensureClientAccessAllowed`).
 *
 * Cal.com publishes no OpenID Connect / RFC 8414 discovery document, so the
 * sandbox does not serve one either: configure clients with explicit
 * authorization and token endpoints.
 *
 * Deliberate difference: a client may register several redirect URIs (Cal.com
 * stores one); matching is exact.
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

/** OAuthService.ensureClientAccessAllowed: REJECTED never; PENDING only for the owner. */
function clientAccessRefusal(client: SandboxOAuthClient, userId: number | null): string | null {
  if (client.status === 'REJECTED') return 'client_rejected';
  const isOwner = userId !== null && userId === client.ownerUserId;
  if (!isOwner && client.status !== 'APPROVED') return 'client_not_approved';
  return null;
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
  // Never redirect to an unregistered URI: show an error page instead (RFC 6749 §4.1.2.1;
  // oauth2-error.handler.ts NON_REDIRECTABLE_REASONS).
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
  const user = sx.store.userByUsername(sx.oauth.username);
  if (!user) {
    errorPage(ctx, `The sandbox's approving user ${sx.oauth.username} does not exist`, 'server_error');
    return;
  }
  const refusal = clientAccessRefusal(client, user.id);
  if (refusal) {
    // client_not_approved is not redirectable (oauth2-error.handler.ts); client_rejected is.
    if (refusal === 'client_not_approved') errorPage(ctx, 'OAuth client is not approved', refusal);
    else fail('unauthorized_client', refusal);
    return;
  }
  // OAuthService.generateAuthorizationCode: PKCE rules by client type.
  const challenge = q.get('code_challenge');
  const method = q.get('code_challenge_method');
  if (client.clientType === 'PUBLIC') {
    if (!challenge) return fail('invalid_request', 'pkce_required');
    if (method !== 'S256') return fail('invalid_request', 'invalid_code_challenge_method');
  } else if (challenge && method !== 'S256') {
    return fail('invalid_request', 'invalid_code_challenge_method');
  }
  if (sx.oauth.deny) return fail('access_denied');
  const code = randomToken(40);
  sx.store.authCodes.set(code, {
    clientId: client.clientId,
    userId: user.id,
    redirectUri,
    codeChallenge: challenge ?? null,
    codeChallengeMethod: challenge ? 'S256' : null,
    expiresAt: sx.clock().getTime() + LIFETIMES.authCodeMs,
  });
  const url = new URL(redirectUri);
  url.searchParams.set('code', code);
  // Cal.com passes state through only when the client sent one (buildRedirectUrl skips undefined).
  if (state !== null) url.searchParams.set('state', state);
  redirect(ctx, url.toString());
}

/**
 * The four body shapes of apps/api/v2/src/modules/auth/oauth2/inputs/token.input.pipe.ts
 * (exchange.input.ts, refresh.input.ts). The pipe picks the confidential shape when the body
 * has a `client_secret` key at all, then validates with `whitelist` + `forbidNonWhitelisted`:
 * every listed property is a required string, anything else is refused.
 */
const TOKEN_SHAPES = {
  exchangeConfidential: ['client_id', 'grant_type', 'code', 'redirect_uri', 'client_secret'],
  exchangePublic: ['client_id', 'grant_type', 'code', 'redirect_uri', 'code_verifier'],
  refreshConfidential: ['client_id', 'grant_type', 'refresh_token', 'client_secret'],
  refreshPublic: ['client_id', 'grant_type', 'refresh_token'],
} as const;

/** Raw body as an object (form-encoded or JSON), values untouched, so the pipe's type checks can run. */
function rawTokenBody(ctx: RequestContext): Record<string, unknown> | null {
  const type = String(ctx.req.headers['content-type'] ?? '');
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(ctx.rawBody));
  if (!ctx.rawBody) return null;
  try {
    const parsed: unknown = JSON.parse(ctx.rawBody);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    // Nest's body parser answers malformed JSON with its own 400 before the pipe runs.
    throw new OAuthError(400, 'invalid_request', 'Body should be an object');
  }
}

/**
 * token.input.pipe.ts `validate` + `formatErrors`: one `"<property> property is wrong,<constraints> "`
 * per failing property, joined with ", ", as `invalid_request` (400).
 */
function validateTokenBody(raw: Record<string, unknown>, allowed: readonly string[], grantType: string): Record<string, string> {
  const problems: string[] = [];
  for (const key of allowed) {
    const v = raw[key];
    const constraints: string[] = [];
    if (typeof v !== 'string') constraints.push(`${key} must be a string`);
    if (key === 'grant_type' && v !== grantType) constraints.push(`${key} must be equal to ${grantType}`);
    if (constraints.length) problems.push(`${key} property is wrong,${constraints.join(', ')} `);
  }
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) problems.push(`${key} property is wrong,property ${key} should not exist `);
  }
  if (problems.length) throw new OAuthError(400, 'invalid_request', problems.join(', '));
  return raw as Record<string, string>;
}

function token(ctx: RequestContext, sx: SandboxContext): void {
  sx.stats.tokenRequests += 1;
  const raw = rawTokenBody(ctx);
  if (!raw) throw new OAuthError(400, 'invalid_request', 'Body is required');
  if (!raw['client_id'] || typeof raw['client_id'] !== 'string') throw new OAuthError(400, 'invalid_request', 'client_id is required');
  const confidential = 'client_secret' in raw;
  if (raw['grant_type'] === 'authorization_code') {
    const body = validateTokenBody(raw, confidential ? TOKEN_SHAPES.exchangeConfidential : TOKEN_SHAPES.exchangePublic, 'authorization_code');
    exchangeCode(ctx, sx, body);
    return;
  }
  if (raw['grant_type'] === 'refresh_token') {
    const body = validateTokenBody(raw, confidential ? TOKEN_SHAPES.refreshConfidential : TOKEN_SHAPES.refreshPublic, 'refresh_token');
    refreshTokens(ctx, sx, body);
    return;
  }
  throw new OAuthError(400, 'invalid_request', "grant_type must be 'authorization_code' or 'refresh_token'");
}

/** OAuthService.exchangeCodeForTokens, in its order of checks. */
function exchangeCode(ctx: RequestContext, sx: SandboxContext, body: Record<string, string>): void {
  const clientId = body['client_id']!;
  const client = sx.store.oauthClients.get(clientId);
  if (!client) throw new OAuthError(401, 'invalid_client', 'client_not_found');
  const redirectUri = body['redirect_uri']!;
  if (!client.redirectUris.includes(redirectUri)) throw new OAuthError(400, 'invalid_grant', 'redirect_uri_mismatch');
  checkClientSecret(client, body['client_secret']);
  const code = body['code']!;
  const grant = sx.store.authCodes.get(code);
  // Single use: the code is gone after the first exchange attempt, good or bad (deleteExpiredAndUsedCodes).
  sx.store.authCodes.delete(code);
  if (!grant || grant.clientId !== clientId || grant.expiresAt <= sx.clock().getTime()) {
    throw new OAuthError(400, 'invalid_grant', 'code_invalid_or_expired');
  }
  // Sandbox: a client with several URIs must still present the one it authorised with.
  if (grant.redirectUri !== redirectUri) throw new OAuthError(400, 'invalid_grant', 'redirect_uri_mismatch');
  const refusal = clientAccessRefusal(client, grant.userId);
  if (refusal) throw new OAuthError(401, 'unauthorized_client', refusal);
  // verifyPKCE: enforced for PUBLIC clients, and for CONFIDENTIAL ones whose code carries a challenge.
  if (client.clientType === 'PUBLIC' || grant.codeChallenge) {
    const verifier = body['code_verifier'];
    if (!grant.codeChallenge || !verifier) throw new OAuthError(400, 'invalid_request', 'pkce_missing_parameters_or_invalid_method');
    const computed = createHash('sha256').update(verifier).digest('base64url');
    if (!safeEqual(computed, grant.codeChallenge)) throw new OAuthError(400, 'invalid_grant', 'pkce_verification_failed');
  }
  sx.stats.codeExchanges += 1;
  const minted = mintTokens(sx, clientId, grant.userId);
  // exchangeCodeForTokens creates a refresh-token row without deleting older ones.
  sx.store.oauthRefreshSecrets.set(minted.secret, { clientId, userId: grant.userId, expiresAt: minted.refreshExpiresAt });
  sendTokens(ctx, minted);
}

/**
 * OAuthService.refreshAccessToken. Refresh tokens are 30-day JWTs carrying a `secret`; a refresh
 * deletes every stored secret of that client and user and stores the new one
 * (OAuthRefreshTokenRepository.rotateTokenForUser), so a used refresh token answers
 * `invalid_grant` / `refresh_token_revoked`. Older Cal.com releases kept no secret at all (a used
 * refresh token kept working until it expired): `setOAuthBehaviour({ refreshTokens: 'stateless' })`.
 */
function refreshTokens(ctx: RequestContext, sx: SandboxContext, body: Record<string, string>): void {
  const clientId = body['client_id']!;
  const client = sx.store.oauthClients.get(clientId);
  if (!client) throw new OAuthError(401, 'invalid_client', 'client_not_found');
  checkClientSecret(client, body['client_secret']);
  const issued = sx.store.oauthRefreshTokens.get(body['refresh_token']!);
  if (!issued || issued.expiresAt <= sx.clock().getTime()) throw new OAuthError(400, 'invalid_grant', 'invalid_refresh_token');
  if (issued.clientId !== clientId) throw new OAuthError(400, 'invalid_grant', 'client_id_mismatch');
  const refusal = clientAccessRefusal(client, issued.userId);
  if (refusal) throw new OAuthError(401, 'unauthorized_client', refusal);
  const stateless = sx.oauth.refreshTokens === 'stateless';
  if (!stateless && !sx.store.oauthRefreshSecrets.has(issued.secret)) {
    throw new OAuthError(400, 'invalid_grant', 'refresh_token_revoked');
  }
  sx.stats.tokenRefreshes += 1;
  const minted = mintTokens(sx, clientId, issued.userId);
  if (!stateless) {
    for (const [secret, row] of sx.store.oauthRefreshSecrets) {
      if (row.clientId === clientId && row.userId === issued.userId) sx.store.oauthRefreshSecrets.delete(secret);
    }
    sx.store.oauthRefreshSecrets.set(minted.secret, { clientId, userId: issued.userId, expiresAt: minted.refreshExpiresAt });
  }
  sendTokens(ctx, minted);
}

/** OAuthService.validateClient: a CONFIDENTIAL client must present its secret; a PUBLIC one none. */
function checkClientSecret(client: SandboxOAuthClient, secret: string | undefined): void {
  if (client.clientType !== 'CONFIDENTIAL') return;
  if (!secret || !client.clientSecret || !safeEqual(secret, client.clientSecret)) {
    throw new OAuthError(401, 'invalid_client', 'invalid_client_credentials');
  }
}

interface Minted {
  accessToken: string;
  refreshToken: string;
  secret: string;
  refreshExpiresAt: number;
}

/** OAuthService.mintTokens: access 1800 s, refresh 30 days, both JWTs. */
function mintTokens(sx: SandboxContext, clientId: string, userId: number): Minted {
  const now = sx.clock().getTime();
  const secret = randomToken(32);
  const accessToken = signJwt({ userId, token_type: 'Access Token', clientId, iat: Math.floor(now / 1000) });
  const refreshToken = signJwt({ userId, token_type: 'Refresh Token', clientId, secret, iat: Math.floor(now / 1000) });
  const refreshExpiresAt = now + LIFETIMES.oauthRefreshSeconds * 1000;
  sx.store.oauthAccessTokens.set(accessToken, { userId, clientId, expiresAt: now + LIFETIMES.oauthAccessSeconds * 1000 });
  sx.store.oauthRefreshTokens.set(refreshToken, { userId, clientId, secret, expiresAt: refreshExpiresAt });
  return { accessToken, refreshToken, secret, refreshExpiresAt };
}

/** `OAuth2TokensDto`: the token endpoint answers without the `{status, data}` envelope. */
function sendTokens(ctx: RequestContext, t: Minted): void {
  sendJson(
    ctx.res,
    200,
    { access_token: t.accessToken, token_type: 'bearer', refresh_token: t.refreshToken, expires_in: LIFETIMES.oauthAccessSeconds },
    { 'cache-control': 'no-store', pragma: 'no-cache' },
  );
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
