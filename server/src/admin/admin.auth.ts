import type { RequestHandler, Response } from 'express';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import type { AppContext } from '../context.js';
import { safeEqual, sha256 } from '../crypto/tokens.js';
import { Forbidden, Unauthorized } from '../errors.js';
import { findActiveByHash } from './tokens.repository.js';

/** Who is calling the admin API. `tenantId` null (and no `tenantSlugs`) means every tenant. */
export interface AdminPrincipal {
  tokenId: string | null;
  tenantId: string | null;
  tenantSlug: string | null;
  /** A person signed in to the console (server/src/console); absent for bearer tokens. */
  person?: { subject: string };
  /** A console person's tenants (from their roles); absent: decided by `tenantId`. */
  tenantSlugs?: readonly string[];
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/;

/**
 * Reads the bearer token. The environment's admin token is compared in
 * constant time; other tokens are looked up by their SHA-256 (they are random
 * and long, so a fast hash is enough and the plaintext is never stored).
 */
export function adminAuth(ctx: Pick<AppContext, 'config' | 'db'>): RequestHandler {
  return async (req, res, next) => {
    // A console session (server/src/console/console.auth.ts, mounted before this) already said who it is.
    if (res.locals.admin) return next();
    const m = BEARER.exec(req.get('authorization') ?? '');
    if (!m) throw new Unauthorized();
    const token = m[1]!;
    if (ctx.config.adminToken && safeEqual(token, ctx.config.adminToken)) {
      res.locals.admin = { tokenId: null, tenantId: null, tenantSlug: null } satisfies AdminPrincipal;
      return next();
    }
    const found = await ctx.db.withPlatform((tx) => findActiveByHash(tx, sha256(token)));
    if (!found) throw new Unauthorized();
    res.locals.admin = { tokenId: found.id, tenantId: found.tenantId, tenantSlug: found.tenantSlug } satisfies AdminPrincipal;
    next();
  };
}

export function principal(res: Response): AdminPrincipal {
  const p = res.locals.admin as AdminPrincipal | undefined;
  if (!p) throw new Unauthorized();
  return p;
}

/**
 * Throws `forbidden` unless the caller may act on the tenant with this slug. Checked before any
 * lookup, so a scoped token learns nothing about other slugs. Only the gate uses it.
 */
function assertTenantAccess(res: Response, slug: string): void {
  const p = principal(res);
  if (p.tenantSlugs ? !p.tenantSlugs.includes(slug) : p.tenantId !== null && p.tenantSlug !== slug) throw new Forbidden();
}

/** Throws `forbidden` unless the caller's token reaches every tenant. */
export function assertPlatformAccess(res: Response): AdminPrincipal {
  const p = principal(res);
  if (p.tenantId !== null || p.tenantSlugs) throw new Forbidden('This action needs a token that reaches every tenant.');
  return p;
}

/**
 * The one gate for a tenant named in the path: `/v1/admin/tenants/:slug/…` (mounted once in app.ts,
 * so a route added later cannot forget it) and the OAuth start (`/v1/oauth/calcom/:tenant/start`).
 * It checks the scoped token first (before any lookup, so a token scoped to one tenant learns
 * nothing about other slugs), then resolves the tenant once and keeps it for the route
 * ({@link gatedTenant}). Routes never read the slug or check access themselves.
 */
export function tenantGate(
  tenants: Pick<TenantsService, 'resolve'>,
  { param = 'slug', routePattern = '/v1/admin/tenants/:slug' }: { param?: string; routePattern?: string } = {},
): RequestHandler {
  return async (req, res, next) => {
    // Metrics and logs name the pattern, never the slug, also when the gate itself answers.
    res.locals.routePattern = routePattern;
    const slug = String(req.params[param] ?? '');
    assertTenantAccess(res, slug);
    res.locals.tenant = await tenants.resolve(slug);
    next();
  };
}

/** The tenant the gate resolved and authorised for this request. */
export function gatedTenant(res: Response): TenantRecord {
  const t = res.locals.tenant as TenantRecord | undefined;
  if (!t) throw new Error('gatedTenant() outside a tenant-gated route: the tenant gate did not run');
  return t;
}
