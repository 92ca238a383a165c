import { createHash } from 'node:crypto';
import { TenantSlug } from '@calbridge/shared';
import type { ChangeFeed } from '../db/changes.js';
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

/** Entries a change never reached are read again after this long anyway (a second line of defence, not the invalidation). */
const MAX_AGE_MS = 5 * 60_000;
const MAX_ENTRIES = 10_000;
const MAX_UNKNOWN = 1_000;

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
 * The page-view path's cache: slug → tenant and serialised config, in process.
 * It is used only while the change feed is live; every committed change of a tenant
 * or its Cal.com connection (migration 0017's triggers, heard through LISTEN) drops
 * that tenant's entry on every instance, and a lost listener connection drops all.
 * Without a feed (or while it reconnects) every request reads the database.
 */
export function createWidgetConfigCache(deps: { tenants: TenantsService; widget: WidgetService; changes?: ChangeFeed | undefined; now?: () => number }) {
  const { tenants, widget, changes } = deps;
  const now = deps.now ?? (() => performance.now());
  const known = new Map<string, { entry: WidgetEntry; at: number }>();
  const unknown = new Map<string, number>();
  const inFlight = new Map<string, { generation: number; promise: Promise<WidgetEntry | null> }>();
  // Bumped by every change: a read that started before a change must not be stored after it.
  let generation = 0;

  changes?.subscribe({
    onChange(change) {
      generation++;
      if (change.slug) {
        known.delete(change.slug);
        unknown.delete(change.slug);
      }
      for (const [slug, v] of known) if (v.entry.tenant.id === change.tenantId) known.delete(slug);
    },
    onReset() {
      generation++;
      known.clear();
      unknown.clear();
    },
  });

  async function load(slug: string): Promise<WidgetEntry | null> {
    const tenant = await tenants.find(slug);
    if (!tenant) return null;
    if (!tenant.calLink) return { tenant, config: null };
    const c = widget.config(tenant);
    const modes = publishedModes(c.modes, await tenants.calcomSummary(tenant.id));
    const body = Buffer.from(JSON.stringify({ ...c, modes }), 'utf8');
    return { tenant, config: { body, etag: strongEtag(body) } };
  }

  function store(slug: string, entry: WidgetEntry | null) {
    if (entry) {
      if (known.size >= MAX_ENTRIES) known.delete(known.keys().next().value!);
      known.set(slug, { entry, at: now() });
    } else {
      // Unknown slugs in a map of their own, so a flood of made-up ones cannot push out real tenants.
      if (unknown.size >= MAX_UNKNOWN) unknown.delete(unknown.keys().next().value!);
      unknown.set(slug, now());
    }
  }

  return {
    /**
     * What the cache holds for `slug` right now, without waiting: the entry, null for a slug
     * known not to exist, undefined when only the database can say (not cached, or not live).
     */
    peek(slug: string): WidgetEntry | null | undefined {
      if (changes?.live !== true) return undefined;
      const hit = known.get(slug);
      if (hit) return now() - hit.at < MAX_AGE_MS ? hit.entry : undefined;
      const miss = unknown.get(slug);
      return miss !== undefined && now() - miss < MAX_AGE_MS ? null : undefined;
    },

    /** The tenant and its config, or null when no tenant has this slug. */
    async get(slug: string): Promise<WidgetEntry | null> {
      if (!TenantSlug.safeParse(slug).success) return null;
      const caching = changes?.live === true;
      if (caching) {
        const hit = known.get(slug);
        if (hit && now() - hit.at < MAX_AGE_MS) return hit.entry;
        const miss = unknown.get(slug);
        if (miss !== undefined && now() - miss < MAX_AGE_MS) return null;
        const pending = inFlight.get(slug);
        if (pending && pending.generation === generation) return pending.promise;
      }
      const started = generation;
      const promise = load(slug);
      if (!caching) return promise;
      inFlight.set(slug, { generation: started, promise });
      try {
        const entry = await promise;
        if (changes?.live && generation === started) store(slug, entry);
        return entry;
      } finally {
        if (inFlight.get(slug)?.promise === promise) inFlight.delete(slug);
      }
    },
  };
}
export type WidgetConfigCache = ReturnType<typeof createWidgetConfigCache>;
