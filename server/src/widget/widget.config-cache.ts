import { createHash } from 'node:crypto';
import { TenantSlug } from '@calbridge/shared';
import type { ChangeFeed } from '../db/changes.js';
import { createSlugCache } from '../db/slug-cache.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { publishedModes } from './published-modes.js';
import type { WidgetService } from './widget.service.js';

/** The `Cache-Control` of the config: a CDN or browser keeps it a minute, and may serve it stale for ten while it asks again. */
export const CONFIG_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=600';

/** What a page view needs, computed once per change of the tenant: the tenant (CORS) and the config's bytes. */
export interface WidgetEntry {
  tenant: TenantRecord;
  /** The serialised config and its strong ETag; null while the tenant has no Cal link (`widget_not_configured`). */
  config: { body: Buffer; etag: string } | null;
}

/** A strong validator: the same bytes give the same tag on every instance (no instance id, no time). */
function strongEtag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** `If-None-Match` against our tag (RFC 9110 §13.1.2: weak comparison, `*` matches any current representation). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === '*' || tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)) return true;
  }
  return false;
}

/**
 * The page-view path's cache: slug → tenant and serialised config, in process, kept while the
 * change feed is live and dropped for a tenant on every instance when it or its Cal.com connection
 * changes (db/slug-cache.ts). Without a feed (or while it reconnects) every request reads the database.
 */
export function createWidgetConfigCache(deps: { tenants: TenantsService; widget: WidgetService; changes?: ChangeFeed | undefined; now?: () => number }) {
  const { tenants, widget } = deps;

  async function load(slug: string): Promise<WidgetEntry | null> {
    const tenant = await tenants.find(slug);
    if (!tenant) return null;
    if (!tenant.calLink) return { tenant, config: null };
    const c = widget.config(tenant);
    const modes = publishedModes(c.modes, await tenants.calcomSummary(tenant.id));
    const body = Buffer.from(JSON.stringify({ ...c, modes }), 'utf8');
    return { tenant, config: { body, etag: strongEtag(body) } };
  }
  const cache = createSlugCache({ changes: deps.changes, load, tenantId: (e: WidgetEntry) => e.tenant.id, now: deps.now });

  return {
    /**
     * What the cache holds for `slug` right now, without waiting: the entry, null for a slug
     * known not to exist, undefined when only the database can say (not cached, or not live).
     */
    peek: cache.peek,
    /** The tenant and its config, or null when no tenant has this slug. */
    async get(slug: string): Promise<WidgetEntry | null> {
      if (!TenantSlug.safeParse(slug).success) return null;
      return cache.get(slug);
    },
  };
}
export type WidgetConfigCache = ReturnType<typeof createWidgetConfigCache>;
