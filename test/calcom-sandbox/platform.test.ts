import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_PLATFORM_CLIENT_ID, SANDBOX_PLATFORM_CLIENT_SECRET, startSandbox, type Sandbox } from './index.js';
import { callJson } from './test-support.js';

let now = new Date('2026-03-02T08:00:00.000Z');
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, clock: () => now });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  now = new Date('2026-03-02T08:00:00.000Z');
  sandbox.control.reset();
});

const SECRET = { 'x-cal-secret-key': SANDBOX_PLATFORM_CLIENT_SECRET };
const usersUrl = (): string => `${sandbox.apiUrl}/oauth-clients/${SANDBOX_PLATFORM_CLIENT_ID}/users`;

async function createUser(email = 'alice@example.com'): Promise<any> {
  const res = await callJson(usersUrl(), { method: 'POST', headers: SECRET, body: { email, name: 'Alice', timeZone: 'Europe/Berlin' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

describe('Cal.com platform managed users', () => {
  it('when a managed user is created, then it gets tokens expiring in 60 minutes and 1 year', async () => {
    const data = await createUser();
    expect(data.user).toMatchObject({ name: 'Alice', timeZone: 'Europe/Berlin', email: `alice+${SANDBOX_PLATFORM_CLIENT_ID}@example.com` });
    expect(data.accessTokenExpiresAt).toBe(now.getTime() + 60 * 60 * 1000);
    expect(data.refreshTokenExpiresAt).toBe(now.getTime() + 365 * 24 * 60 * 60 * 1000);
    const me = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${data.accessToken}` } });
    expect(me.body.data.id).toBe(data.user.id);
  });

  it('when the secret key is wrong or missing, then the call is unauthorized', async () => {
    expect((await callJson(usersUrl(), { headers: { 'x-cal-secret-key': 'nope' } })).status).toBe(401);
    expect((await callJson(usersUrl())).status).toBe(401);
  });

  it('when the same email is registered twice, then it conflicts', async () => {
    await createUser();
    const res = await callJson(usersUrl(), { method: 'POST', headers: SECRET, body: { email: 'alice@example.com', name: 'A' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ConflictException');
  });

  it('when listing, getting and patching, then the managed user is returned in ManagedUserOutput shape', async () => {
    const { user } = await createUser();
    const list = await callJson(usersUrl(), { headers: SECRET });
    expect(list.body.data.map((u: any) => u.id)).toEqual([user.id]);
    const patched = await callJson(`${usersUrl()}/${user.id}`, { method: 'PATCH', headers: SECRET, body: { name: 'Alice B', timeFormat: 12 } });
    expect(patched.body.data).toMatchObject({ id: user.id, name: 'Alice B', timeFormat: 12 });
    const got = await callJson(`${usersUrl()}/${user.id}`, { headers: SECRET });
    expect(got.body.data.name).toBe('Alice B');
  });

  it('when the control ends access tokens early (over HTTP too), then the next call is a 401 while the refresh token still works', async () => {
    const data = await createUser();
    expect((await callJson(`${sandbox.url}/__sandbox/expire-access-tokens`, { method: 'POST' })).status).toBe(200);
    const me = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${data.accessToken}` } });
    expect(me.status).toBe(401);
    const refreshed = await callJson(`${sandbox.apiUrl}/oauth/${SANDBOX_PLATFORM_CLIENT_ID}/refresh`, {
      method: 'POST',
      headers: SECRET,
      body: { refreshToken: data.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect((await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${refreshed.body.data.accessToken}` } })).status).toBe(200);
  });

  it('when the access token expires, then the API says ACCESS_TOKEN_IS_EXPIRED and refresh rotates both tokens', async () => {
    const data = await createUser();
    now = new Date(now.getTime() + 61 * 60 * 1000);
    const expired = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${data.accessToken}` } });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toBe('ACCESS_TOKEN_IS_EXPIRED');

    const refreshUrl = `${sandbox.apiUrl}/oauth/${SANDBOX_PLATFORM_CLIENT_ID}/refresh`;
    const refreshed = await callJson(refreshUrl, { method: 'POST', headers: SECRET, body: { refreshToken: data.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.data.accessToken).not.toBe(data.accessToken);
    expect(refreshed.body.data.refreshToken).not.toBe(data.refreshToken);
    expect(refreshed.body.data.accessTokenExpiresAt).toBe(now.getTime() + 60 * 60 * 1000);
    const me = await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${refreshed.body.data.accessToken}` } });
    expect(me.status).toBe(200);
    const reuse = await callJson(refreshUrl, { method: 'POST', headers: SECRET, body: { refreshToken: data.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(sandbox.control.stats().managedUserRefreshes).toBe(1);
  });

  it('when tokens are force-refreshed, then the old ones stop working', async () => {
    const data = await createUser();
    const forced = await callJson(`${usersUrl()}/${data.user.id}/force-refresh`, { method: 'POST', headers: SECRET });
    expect(forced.status).toBe(200);
    expect((await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${data.accessToken}` } })).status).toBe(401);
    expect((await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${forced.body.data.accessToken}` } })).status).toBe(200);
  });

  it('when a managed user is deleted, then it is gone and its token no longer works', async () => {
    const data = await createUser();
    const del = await callJson(`${usersUrl()}/${data.user.id}`, { method: 'DELETE', headers: SECRET });
    expect(del.status).toBe(200);
    expect(del.body.data.id).toBe(data.user.id);
    expect((await callJson(`${usersUrl()}/${data.user.id}`, { headers: SECRET })).status).toBe(404);
    expect((await callJson(`${sandbox.apiUrl}/me`, { headers: { authorization: `Bearer ${data.accessToken}` } })).status).toBe(401);
  });
});
