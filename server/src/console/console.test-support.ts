import { expect } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';

/** Cookies of one browser at the identity provider (the IdP keeps its interaction and session there). */
class Jar {
  private readonly values = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.values.delete(name);
      else this.values.set(name, value);
    }
  }
  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface SignedIn {
  /** `__Host-calbridge_admin=…`, ready for a Cookie header. */
  cookie: string;
  /** The Set-Cookie line the console answered with. */
  setCookie: string;
  csrfToken: string;
  idpJar: Jar;
}

/**
 * Signs a person in as a browser would, over real HTTP at the development IdP:
 * the console's /admin/login, the IdP's authorization endpoint, its login form,
 * back to the console's callback. Fails the test when a step answers otherwise.
 */
export async function signIn(app: Express, email: string, password: string, jar = new Jar()): Promise<SignedIn> {
  const login = await request(app).get('/admin/login?returnTo=/admin/tenants');
  expect(login.status).toBe(303);
  const loginCookie = String(login.headers['set-cookie']).split(';')[0]!;
  let url = new URL(login.headers.location!);
  let res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.take(res);
  url = new URL(res.headers.get('location')!, url);
  expect(url.pathname).toMatch(/^\/interaction\//);
  res = await fetch(url, { headers: { cookie: jar.header() } });
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('<label for="email">Email</label>');
  res = await fetch(new URL(`${url.pathname}/login`, url), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }).toString(),
  });
  if (res.status !== 303) throw new SignInRefused(res.status, await res.text());
  jar.take(res);
  // Follow the IdP's own redirects until it sends the browser back to the console.
  url = new URL(res.headers.get('location')!, url);
  for (let i = 0; i < 5 && url.pathname !== '/admin/callback'; i++) {
    res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(res);
    url = new URL(res.headers.get('location')!, url);
  }
  expect(url.pathname).toBe('/admin/callback');
  const callback = await request(app).get(`${url.pathname}${url.search}`).set('Cookie', loginCookie);
  if (callback.status !== 303) throw new SignInRefused(callback.status, callback.text);
  const setCookie = ([] as string[]).concat(callback.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-calbridge_admin='))!;
  const cookie = setCookie.split(';')[0]!;
  const session = await request(app).get('/admin/session').set('Cookie', cookie);
  expect(session.status).toBe(200);
  return { cookie, setCookie, csrfToken: session.body.csrfToken, idpJar: jar };
}

export class SignInRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`sign-in answered ${status}`);
  }
}
