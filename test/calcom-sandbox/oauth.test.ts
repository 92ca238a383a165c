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

async function getCode(state = 'st-123', p = pkce()): Promise<{ code: string; verifier: string }> {
  const r = await authorize({
    client_id: SANDBOX_OAUTH_CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
  });
  expect(r.status).toBe(303);
  expect(r.location!.origin + r.location!.pathname).toBe(REDIRECT);
  expect(r.location!.searchParams.get('state')).toBe(state);
  return { code: r.location!.searchParams.get('code')!, verifier: p.verifier };
}

function tokenRequest(body: Record<string, string>, form = true): Promise<JsonResponse> {
  return callJson(`${sandbox.apiUrl}/auth/oauth2/token`, {
    method: 'POST',
    headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
    body: form ? new URLSearchParams(body).toString() : body,
  });
}

const exchange = (code: string, verifier: string | undefined, extra: Record<string, string> = {}): Promise<JsonResponse> =>
  tokenRequest({
    grant_type: 'authorization_code',
    client_id: SANDBOX_OAUTH_CLIENT_ID,
    client_secret: SANDBOX_OAUTH_CLIENT_SECRET,
    code,
    redirect_uri: REDIRECT,
    ...(verifier ? { code_verifier: verifier } : {}),
    ...extra,
  });

const refresh = (refreshToken: string): Promise<JsonResponse> =>
  tokenRequest({ grant_type: 'refresh_token', client_id: SANDBOX_OAUTH_CLIENT_ID, client_secret: SANDBOX_OAUTH_CLIENT_SECRET, refresh_token: refreshToken }, false);

describe('Cal.com OAuth authorize page', () => {
  it('when the request is valid, then it auto-approves and redirects with code and state', async () => {
    const { code } = await getCode('xyz');
    expect(code).toMatch(/^[\w-]{20,}$/);
    expect(sandbox.control.stats().authorizeRequests).toBe(1);
  });

  it('when the redirect URI is not registered exactly, then it shows an error page and does not redirect', async () => {
    const p = pkce();
    for (const uri of [`${REDIRECT}/`, `${REDIRECT}?x=1`, 'http://evil.example/cb']) {
      const r = await authorize({ client_id: SANDBOX_OAUTH_CLIENT_ID, redirect_uri: uri, response_type: 'code', state: 's', code_challenge: p.challenge, code_challenge_method: 'S256' });
      expect(r.status).toBe(400);
      expect(r.location).toBeNull();
      expect(r.text).toContain('redirect_uri_mismatch');
    }
  });

  it('when state is missing, then it redirects with invalid_request and no code', async () => {
    const p = pkce();
    const r = await authorize({ client_id: SANDBOX_OAUTH_CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', code_challenge: p.challenge, code_challenge_method: 'S256' });
    expect(r.status).toBe(303);
    expect(r.location!.searchParams.get('error')).toBe('invalid_request');
    expect(r.location!.searchParams.get('code')).toBeNull();
  });

  it('when PKCE is missing or not S256, then it redirects with invalid_request', async () => {
    const p = pkce();
    const none = await authorize({ client_id: SANDBOX_OAUTH_CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', state: 's' });
    expect(none.location!.searchParams.get('error_description')).toBe('pkce_required');
    const plain = await authorize({ client_id: SANDBOX_OAUTH_CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', state: 's', code_challenge: p.challenge, code_challenge_method: 'plain' });
    expect(plain.location!.searchParams.get('error_description')).toBe('invalid_code_challenge_method');
    expect(plain.location!.searchParams.get('state')).toBe('s');
  });

  it('when the user denies, then it redirects with access_denied and the state', async () => {
    sandbox.control.setOAuthBehaviour({ deny: true });
    const p = pkce();
    const r = await authorize({ client_id: SANDBOX_OAUTH_CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', state: 'st', code_challenge: p.challenge, code_challenge_method: 'S256' });
    expect(r.location!.searchParams.get('error')).toBe('access_denied');
    expect(r.location!.searchParams.get('state')).toBe('st');
    expect(r.location!.searchParams.get('code')).toBeNull();
  });
});

describe('Cal.com OAuth token endpoint', () => {
  it('when the code and verifier are right, then it returns OAuth2TokensDto and the access token works on /v2/me', async () => {
    const { code, verifier } = await getCode();
    const res = await exchange(code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 1800 });
    const me = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${res.body.access_token}` } });
    expect(me.body.data.username).toBe('demo');
    expect(sandbox.control.stats()).toMatchObject({ tokenRequests: 1, codeExchanges: 1 });
  });

  it('when the body is JSON instead of a form, then it is accepted too', async () => {
    const { code, verifier } = await getCode();
    const res = await tokenRequest(
      { grant_type: 'authorization_code', client_id: SANDBOX_OAUTH_CLIENT_ID, client_secret: SANDBOX_OAUTH_CLIENT_SECRET, code, redirect_uri: REDIRECT, code_verifier: verifier },
      false,
    );
    expect(res.status).toBe(200);
  });

  it('when the verifier is wrong, then it fails with invalid_grant', async () => {
    const { code } = await getCode();
    const res = await exchange(code, pkce().verifier);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'pkce_verification_failed' });
  });

  it('when the verifier is missing, then it fails with invalid_request', async () => {
    const { code } = await getCode();
    const res = await exchange(code, undefined);
    expect(res.body.error).toBe('invalid_request');
  });

  it('when a code is replayed, then the second exchange fails', async () => {
    const { code, verifier } = await getCode();
    expect((await exchange(code, verifier)).status).toBe(200);
    const again = await exchange(code, verifier);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: 'invalid_grant', error_description: 'code_invalid_or_expired' });
  });

  it('when the redirect URI differs from the authorize request, then it fails with invalid_grant', async () => {
    sandbox.control.registerOAuthClient({
      clientId: SANDBOX_OAUTH_CLIENT_ID,
      clientSecret: SANDBOX_OAUTH_CLIENT_SECRET,
      redirectUris: [REDIRECT, 'http://127.0.0.1:9999/other'],
    });
    const { code, verifier } = await getCode();
    const res = await exchange(code, verifier, { redirect_uri: 'http://127.0.0.1:9999/other' });
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'redirect_uri_mismatch' });
    const unregistered = await exchange(code, verifier, { redirect_uri: 'http://127.0.0.1:9999/nope' });
    expect(unregistered.body.error).toBe('invalid_grant');
  });

  it('when the client secret is wrong, then it fails with invalid_client', async () => {
    const { code, verifier } = await getCode();
    const res = await exchange(code, verifier, { client_secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('when a public client registered by a test uses PKCE only, then the exchange works without a secret', async () => {
    sandbox.control.registerOAuthClient({ clientId: 'public-app', redirectUris: [REDIRECT] });
    const p = pkce();
    const r = await authorize({ client_id: 'public-app', redirect_uri: REDIRECT, response_type: 'code', state: 's', code_challenge: p.challenge, code_challenge_method: 'S256' });
    const res = await tokenRequest({ grant_type: 'authorization_code', client_id: 'public-app', code: r.location!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier });
    expect(res.status).toBe(200);
  });

  it('when refreshing, then both tokens rotate and the old refresh token stops working', async () => {
    const { code, verifier } = await getCode();
    const first = (await exchange(code, verifier)).body;
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.access_token).not.toBe(first.access_token);
    expect(sandbox.control.stats().tokenRefreshes).toBe(1);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(sandbox.control.stats().tokenRefreshes).toBe(2);
  });

  it('when an already rotated refresh token is reused, then the whole token family is revoked', async () => {
    const { code, verifier } = await getCode();
    const first = (await exchange(code, verifier)).body;
    const second = (await refresh(first.refresh_token)).body;
    const reuse = await refresh(first.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body).toEqual({ error: 'invalid_grant', error_description: 'refresh_token_revoked' });
    // The legitimate, newest tokens die with the family.
    expect((await refresh(second.refresh_token)).body.error).toBe('invalid_grant');
    const me = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${second.access_token}` } });
    expect(me.status).toBe(401);
    expect(me.body).toMatchObject({ status: 'error', error: { code: 'UnauthorizedException' } });
  });

  it("when family revocation is turned off, then reuse is only rejected, like Cal.com's OAuthService", async () => {
    sandbox.control.setOAuthBehaviour({ revokeFamilyOnReuse: false });
    const { code, verifier } = await getCode();
    const first = (await exchange(code, verifier)).body;
    const second = (await refresh(first.refresh_token)).body;
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(second.refresh_token)).status).toBe(200);
  });

  it('when the grant type is unknown, then it fails with unsupported_grant_type', async () => {
    const res = await tokenRequest({ grant_type: 'password', client_id: SANDBOX_OAUTH_CLIENT_ID });
    expect(res.body.error).toBe('unsupported_grant_type');
  });
});
