import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_OAUTH_CLIENT_ID, SANDBOX_OAUTH_CLIENT_SECRET, startSandbox, type Sandbox } from './index.js';
import { callJson, type JsonResponse } from './test-support.js';

const REDIRECT = 'http://127.0.0.1:9999/oauth/calcom/callback';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, oauthRedirectUris: [REDIRECT] });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.control.reset());

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function authorize(params: Record<string, string | undefined>): Promise<{ status: number; location: URL | null; text: string }> {
  const url = new URL(`${sandbox.appUrl}/auth/oauth2/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  return { status: res.status, location: location ? new URL(location) : null, text: await res.text() };
}

async function getCode(state: string | undefined = 'st-123', p?: { challenge: string }): Promise<{ code: string }> {
  const r = await authorize({
    client_id: SANDBOX_OAUTH_CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state,
    ...(p ? { code_challenge: p.challenge, code_challenge_method: 'S256' } : {}),
  });
  expect(r.status).toBe(303);
  expect(r.location!.origin + r.location!.pathname).toBe(REDIRECT);
  expect(r.location!.searchParams.get('state')).toBe(state ?? null);
  return { code: r.location!.searchParams.get('code')! };
}

function tokenRequest(body: Record<string, unknown>, form = true): Promise<JsonResponse> {
  return callJson(`${sandbox.apiUrl}/auth/oauth2/token`, {
    method: 'POST',
    headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
    body: form ? new URLSearchParams(body as Record<string, string>).toString() : body,
  });
}

/** A confidential exchange: exactly client_id, grant_type, code, redirect_uri, client_secret. */
const exchange = (code: string, extra: Record<string, string> = {}): Promise<JsonResponse> =>
  tokenRequest({
    grant_type: 'authorization_code',
    client_id: SANDBOX_OAUTH_CLIENT_ID,
    client_secret: SANDBOX_OAUTH_CLIENT_SECRET,
    code,
    redirect_uri: REDIRECT,
    ...extra,
  });

const refresh = (refreshToken: string): Promise<JsonResponse> =>
  tokenRequest({ grant_type: 'refresh_token', client_id: SANDBOX_OAUTH_CLIENT_ID, client_secret: SANDBOX_OAUTH_CLIENT_SECRET, refresh_token: refreshToken }, false);

describe('Cal.com OAuth authorize page (OAuthService.generateAuthorizationCode)', () => {
  it('when the request is valid, then it approves and redirects with code and state', async () => {
    const { code } = await getCode('xyz');
    expect(code).toMatch(/^[\w-]{20,}$/);
    expect(sandbox.control.stats().authorizeRequests).toBe(1);
  });

  it('when the redirect URI is not registered exactly, then it shows an error page and does not redirect', async () => {
    for (const uri of [`${REDIRECT}/`, `${REDIRECT}?x=1`, 'http://evil.example/cb']) {
      const r = await authorize({ client_id: SANDBOX_OAUTH_CLIENT_ID, redirect_uri: uri, response_type: 'code', state: 's' });
      expect(r.status).toBe(400);
      expect(r.location).toBeNull();
      expect(r.text).toContain('redirect_uri_mismatch');
    }
  });

  it('when state is missing, then Cal.com still issues a code (state is optional there) and sends no state back', async () => {
    const { code } = await getCode(undefined);
    expect(code).toBeTruthy();
  });

  it('when a confidential client sends no PKCE challenge, then it still gets a code', async () => {
    const { code } = await getCode('s');
    expect((await exchange(code)).status).toBe(200);
  });

  it('when a public client sends no challenge, or a plain one, then it redirects with invalid_request', async () => {
    sandbox.control.registerOAuthClient({ clientId: 'public-app', redirectUris: [REDIRECT] });
    const p = pkce();
    const none = await authorize({ client_id: 'public-app', redirect_uri: REDIRECT, response_type: 'code', state: 's' });
    expect(none.location!.searchParams.get('error')).toBe('invalid_request');
    expect(none.location!.searchParams.get('error_description')).toBe('pkce_required');
    const plain = await authorize({ client_id: 'public-app', redirect_uri: REDIRECT, response_type: 'code', state: 's', code_challenge: p.challenge, code_challenge_method: 'plain' });
    expect(plain.location!.searchParams.get('error_description')).toBe('invalid_code_challenge_method');
    expect(plain.location!.searchParams.get('state')).toBe('s');
  });

  it('when the user denies, then it redirects with access_denied and the state', async () => {
    sandbox.control.setOAuthBehaviour({ deny: true });
    const r = await authorize({ client_id: SANDBOX_OAUTH_CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', state: 'st' });
    expect(r.location!.searchParams.get('error')).toBe('access_denied');
    expect(r.location!.searchParams.get('state')).toBe('st');
    expect(r.location!.searchParams.get('code')).toBeNull();
  });

  it('when the client is still PENDING review, then only its owner may approve it', async () => {
    sandbox.control.seedUser({ username: 'agency' });
    sandbox.control.registerOAuthClient({ clientId: 'pending-app', clientSecret: 'pw', redirectUris: [REDIRECT], status: 'PENDING', ownerUsername: 'agency' });
    const stranger = await authorize({ client_id: 'pending-app', redirect_uri: REDIRECT, response_type: 'code', state: 's' });
    expect(stranger.status).toBe(400);
    expect(stranger.text).toContain('client_not_approved');
    sandbox.control.setOAuthBehaviour({ username: 'agency' });
    const owner = await authorize({ client_id: 'pending-app', redirect_uri: REDIRECT, response_type: 'code', state: 's' });
    expect(owner.status).toBe(303);
    expect(owner.location!.searchParams.get('code')).toBeTruthy();
  });
});

describe('Cal.com OAuth token endpoint (token.input.pipe.ts, OAuthService.exchangeCodeForTokens)', () => {
  it('when a confidential client exchanges its code with its secret, then it gets OAuth2TokensDto (1800 s) and the access token works on /v2/me', async () => {
    const { code } = await getCode();
    const res = await exchange(code);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 1800 });
    const me = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${res.body.access_token}` } });
    expect(me.body.data.username).toBe('demo');
    expect(sandbox.control.stats()).toMatchObject({ tokenRequests: 1, codeExchanges: 1 });
  });

  it('when the body is JSON instead of a form, then it is accepted too', async () => {
    const { code } = await getCode();
    const res = await tokenRequest({ grant_type: 'authorization_code', client_id: SANDBOX_OAUTH_CLIENT_ID, client_secret: SANDBOX_OAUTH_CLIENT_SECRET, code, redirect_uri: REDIRECT }, false);
    expect(res.status).toBe(200);
  });

  it('when a confidential exchange also carries a code_verifier, then it is refused with 400 invalid_request', async () => {
    const p = pkce();
    const { code } = await getCode('s', p);
    const res = await exchange(code, { code_verifier: p.verifier });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'code_verifier property is wrong,property code_verifier should not exist ' });
    expect(sandbox.control.stats().codeExchanges).toBe(0);
  });

  it('when the body has a property Cal.com does not know, then it is refused with 400 invalid_request', async () => {
    const { code } = await getCode();
    const res = await exchange(code, { scope: 'BOOKING_READ' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toContain('property scope should not exist');
  });

  it('when a property is missing or not a string, then it is refused with 400 invalid_request naming it', async () => {
    const { code } = await getCode();
    const missing = await tokenRequest({ grant_type: 'authorization_code', client_id: SANDBOX_OAUTH_CLIENT_ID, client_secret: SANDBOX_OAUTH_CLIENT_SECRET, code });
    expect(missing.status).toBe(400);
    expect(missing.body.error_description).toBe('redirect_uri property is wrong,redirect_uri must be a string ');
    const notString = await tokenRequest({ grant_type: 'authorization_code', client_id: SANDBOX_OAUTH_CLIENT_ID, client_secret: 42, code, redirect_uri: REDIRECT }, false);
    expect(notString.body).toEqual({ error: 'invalid_request', error_description: 'client_secret property is wrong,client_secret must be a string ' });
    const noClient = await tokenRequest({ grant_type: 'authorization_code', code });
    expect(noClient.body).toEqual({ error: 'invalid_request', error_description: 'client_id is required' });
  });

  it('when a code issued with a PKCE challenge is exchanged by the confidential client, then it is refused (only a public exchange could use it)', async () => {
    const p = pkce();
    const { code } = await getCode('s', p);
    const res = await exchange(code);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'pkce_missing_parameters_or_invalid_method' });
  });

  it('when a confidential client tries the public exchange (verifier, no secret), then it fails with invalid_client', async () => {
    const p = pkce();
    const { code } = await getCode('s', p);
    const res = await tokenRequest({ grant_type: 'authorization_code', client_id: SANDBOX_OAUTH_CLIENT_ID, code, redirect_uri: REDIRECT, code_verifier: p.verifier });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'invalid_client_credentials' });
  });

  it('when a code is replayed, then the second exchange fails', async () => {
    const { code } = await getCode();
    expect((await exchange(code)).status).toBe(200);
    const again = await exchange(code);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: 'invalid_grant', error_description: 'code_invalid_or_expired' });
  });

  it('when the redirect URI differs from the authorize request, then it fails with invalid_grant', async () => {
    sandbox.control.registerOAuthClient({
      clientId: SANDBOX_OAUTH_CLIENT_ID,
      clientSecret: SANDBOX_OAUTH_CLIENT_SECRET,
      redirectUris: [REDIRECT, 'http://127.0.0.1:9999/other'],
    });
    const { code } = await getCode();
    const res = await exchange(code, { redirect_uri: 'http://127.0.0.1:9999/other' });
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'redirect_uri_mismatch' });
    const unregistered = await exchange(code, { redirect_uri: 'http://127.0.0.1:9999/nope' });
    expect(unregistered.body.error).toBe('invalid_grant');
  });

  it('when the client secret is wrong, then it fails with invalid_client', async () => {
    const { code } = await getCode();
    const res = await exchange(code, { client_secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('when a public client uses PKCE only, then the exchange works without a secret', async () => {
    sandbox.control.registerOAuthClient({ clientId: 'public-app', redirectUris: [REDIRECT] });
    const p = pkce();
    const r = await authorize({ client_id: 'public-app', redirect_uri: REDIRECT, response_type: 'code', state: 's', code_challenge: p.challenge, code_challenge_method: 'S256' });
    const res = await tokenRequest({ grant_type: 'authorization_code', client_id: 'public-app', code: r.location!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier });
    expect(res.status).toBe(200);
  });

  it('when refreshing, then both tokens rotate and the newest refresh token keeps working', async () => {
    const { code } = await getCode();
    const first = (await exchange(code)).body;
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.access_token).not.toBe(first.access_token);
    expect(second.body.expires_in).toBe(1800);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(sandbox.control.stats().tokenRefreshes).toBe(2);
  });

  it('when a used refresh token is presented again, then it answers invalid_grant refresh_token_revoked and the newest one still works (rotateTokenForUser)', async () => {
    const { code } = await getCode();
    const first = (await exchange(code)).body;
    const second = (await refresh(first.refresh_token)).body;
    const reuse = await refresh(first.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body).toEqual({ error: 'invalid_grant', error_description: 'refresh_token_revoked' });
    expect((await refresh(second.refresh_token)).status).toBe(200);
  });

  it('when set to the older stateless refresh tokens, then a used refresh token still works until it expires', async () => {
    sandbox.control.setOAuthBehaviour({ refreshTokens: 'stateless' });
    const { code } = await getCode();
    const first = (await exchange(code)).body;
    expect((await refresh(first.refresh_token)).status).toBe(200);
    expect((await refresh(first.refresh_token)).status).toBe(200);
  });

  it('when the grant type is unknown, then it fails with invalid_request (the pipe runs first)', async () => {
    const res = await tokenRequest({ grant_type: 'password', client_id: SANDBOX_OAUTH_CLIENT_ID });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: "grant_type must be 'authorization_code' or 'refresh_token'" });
  });
});
