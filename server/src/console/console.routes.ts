import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { gatedTenant } from '../admin/admin.auth.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { precompressed } from '../http/precompressed.js';
import { validate } from '../http/validate.js';
import { CsrfRejected } from './console.errors.js';
import { csrfTokenMatches, type ConsoleService } from './console.service.js';
import { clearCookie, LOGIN_COOKIE, readCookie, SESSION_COOKIE, setCookie } from './cookies.js';
import { CSRF_HEADER } from './console.auth.js';

/**
 * The console's Content-Security-Policy: scripts and styles from our origin only
 * (no 'unsafe-inline'), frames only from Cal.com (the widget preview on "Install"),
 * never framed itself.
 */
function consoleCsp(config: Config): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src ${new URL(config.calcom.appUrl).origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

function page(res: Response, config: Config, status: number, title: string, body: string): void {
  res
    .status(status)
    .set({ 'Content-Security-Policy': consoleCsp(config), 'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${title} · Calbridge</title><link rel="stylesheet" href="/admin/page.css"></head>` +
        `<body><main><h1>${title}</h1>${body}</main></body></html>`,
    );
}

const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d{1,19}$/).optional(),
});

/** Sign-in, sign-out and the session of the console; mounted before the admin API. */
export function consoleRoutes(config: Config, service: ConsoleService): Router {
  const router = Router();
  const ownOrigin = new URL(config.publicUrl).origin;

  router.get('/admin/login', async (req, res) => {
    const { loginCookie, url } = await service.startLogin(req.query.returnTo);
    setCookie(res, LOGIN_COOKIE, loginCookie, 600);
    res.set('Cache-Control', 'no-store').redirect(303, url);
  });

  router.get('/admin/callback', async (req, res) => {
    const loginCookie = readCookie(req, LOGIN_COOKIE);
    clearCookie(res, LOGIN_COOKIE);
    try {
      const { sessionSecret, returnTo } = await service.finishLogin(loginCookie, new URL(req.originalUrl, config.publicUrl));
      setCookie(res, SESSION_COOKIE, sessionSecret, config.oidc.maxSeconds);
      res.set('Cache-Control', 'no-store').redirect(303, returnTo);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      page(res, config, err.status, 'Sign-in failed', `<p>${err.message}</p><p><a href="/admin/login">Sign in again</a></p>`);
    }
  });

  /** Sign-out: a POST with the CSRF token (no one can sign a person out from another site); answers where to go next. */
  router.post('/admin/logout', async (req, res) => {
    const secret = readCookie(req, SESSION_COOKIE);
    if (secret) {
      if (req.get('origin') !== ownOrigin) throw new CsrfRejected();
      if (!csrfTokenMatches(secret, req.get(CSRF_HEADER) ?? '')) throw new CsrfRejected();
    }
    const redirect = await service.logout(secret);
    clearCookie(res, SESSION_COOKIE);
    res.set('Cache-Control', 'no-store').json({ redirect });
  });

  router.get('/admin/signed-out', (_req, res) => {
    page(res, config, 200, 'You are signed out', '<p><a href="/admin/login">Sign in</a></p>');
  });

  /** Who is signed in, their roles and the CSRF token the console sends back on every change. */
  router.get('/admin/session', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const s = await service.authenticate(readCookie(req, SESSION_COOKIE));
    if (!s) {
      res.status(401).type('application/problem+json').json({ type: 'urn:calbridge:problem:unauthorized', title: 'Not signed in', status: 401, code: 'unauthorized', signIn: '/admin/login' });
      return;
    }
    res.json({ subject: s.subject, roles: s.roles, access: s.access, csrfToken: s.csrfToken, calcomOrigin: new URL(config.calcom.appUrl).origin, expiresAt: s.expiresAt.toISOString(), idleExpiresAt: s.idleExpiresAt.toISOString() });
  });

  return router;
}

/** The console's own admin API additions (behind the admin auth and the tenant gate): its audit log. */
export function consoleAdminRoutes(service: ConsoleService): Router {
  const router = Router();
  router.get('/v1/admin/tenants/:slug/console-audit', async (req, res) => {
    const q = validate(AuditQuery, req.query, 'query');
    const t = gatedTenant(res);
    res.json(await service.auditLog(t.id, q));
  });
  return router;
}

/**
 * The built console (admin/dist) at /admin: hashed assets cached for long, every
 * other /admin path answered with index.html (the app routes on the client),
 * signed out or not: the app asks /admin/session and sends the person to sign in.
 */
export function consoleStatic(config: Config): Router {
  const router = Router();
  const dir = config.adminDir;
  const csp = consoleCsp(config);
  const setHeaders = (res: ServerResponse, path: string): void => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', /[/\\]assets[/\\]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
  };
  // Scripts and styles as their brotli or gzip copies where the browser accepts them (made at build time).
  router.use('/admin', precompressed(dir, setHeaders), express.static(dir, { index: false, fallthrough: true, setHeaders }));
  router.get('/admin{/*rest}', (req, res, next) => {
    const index = join(dir, 'index.html');
    if (req.path.startsWith('/admin/assets/') || !existsSync(index)) return next();
    res.set({ 'Content-Security-Policy': csp, 'Cache-Control': 'no-cache', 'X-Frame-Options': 'DENY' }).sendFile(index);
  });
  return router;
}

