import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import { Forbidden } from '../errors.js';
import { routeOf } from '../http/problem.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { CsrfRejected } from './console.errors.js';
import { csrfTokenMatches, principalOf, type ConsoleService } from './console.service.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TENANT_PATH = /^\/v1\/admin\/tenants\/([^/?#]+)(\/[^?#]*)?/;
/** Reads of personal data: audited like changes, and closed to viewers. */
const PERSONAL_DATA = /^\/(?:subjects|consents)(?:\/|$)/;
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The console session as a way into the admin API, mounted on /v1/admin before
 * the bearer check (admin.auth.ts), which it leaves alone when an Authorization
 * header is present. With the session cookie:
 * - a state-changing request must come from our own origin (Origin header) and
 *   carry the session's CSRF token in `X-CSRF-Token`, else `csrf_rejected`;
 * - roles decide the reach: admins every tenant, managers and viewers theirs,
 *   viewers read only and never personal data, admin tokens only for admins;
 * - every change and every read of personal data is written to the console
 *   audit log with the person's subject id and the route pattern (never the URL:
 *   some carry an email).
 */
export function consoleAuth(config: Config, service: ConsoleService, tenants: TenantsService): RequestHandler {
  const ownOrigin = new URL(config.publicUrl).origin;
  return async (req, res, next) => {
    if (req.get('authorization')) return next();
    const secret = readCookie(req, SESSION_COOKIE);
    if (!secret) return next();
    const session = await service.authenticate(secret);
    if (!session) return next();

    const unsafe = !SAFE_METHODS.has(req.method);
    if (unsafe) {
      if (req.get('origin') !== ownOrigin) throw new CsrfRejected();
      if (!csrfTokenMatches(secret, req.get(CSRF_HEADER) ?? '')) throw new CsrfRejected('The CSRF token is missing or wrong; reload the console.');
    }

    const m = TENANT_PATH.exec(req.originalUrl);
    const slug = m ? decodeURIComponent(m[1]!) : null;
    const rest = m?.[2] ?? '';
    if (!session.access.admin) {
      if (req.originalUrl.startsWith('/v1/admin/tokens')) throw new Forbidden('Admin tokens are for administrators.');
      if (slug && session.access.viewed.includes(slug) && (unsafe || PERSONAL_DATA.test(rest))) {
        throw new Forbidden('Viewers may look, not change, and not open personal data.');
      }
    }
    res.locals.admin = principalOf(session);

    if (unsafe || PERSONAL_DATA.test(rest)) {
      res.on('finish', () => {
        void (async () => {
          const tenant = slug ? await tenants.find(slug).catch(() => null) : null;
          await service.audit(tenant?.id ?? null, {
            subject: session.subject,
            method: req.method,
            route: routeOf(req).slice(0, 300),
            status: res.statusCode,
          });
        })();
      });
    }
    next();
  };
}
