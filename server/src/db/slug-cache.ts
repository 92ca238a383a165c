import type { ChangeFeed } from './changes.js';

/** Entries a change never reached are read again after this long anyway (a second line of defence, not the invalidation). */
const MAX_AGE_MS = 5 * 60_000;
const MAX_ENTRIES = 10_000;
const MAX_UNKNOWN = 1_000;

/**
 * A per-instance cache of something looked up by tenant slug, kept only while the change feed is
 * live: every committed change of a tenant (migration 0017's triggers, heard through LISTEN, and
 * this instance's own writes at once through `ChangeFeed.emit`) drops that tenant's entries on
 * every instance, and a lost listener connection drops all. Without a feed (or while it
 * reconnects) every call loads. A load that started before a change is not stored after it.
 * Unknown slugs are kept in a map of their own, so a flood of made-up ones cannot push out real tenants.
 */
export interface SlugCache<V> {
  /** What the cache holds for `slug` now, without waiting: the value, null for a slug known not to exist, undefined when only a load can say. */
  peek(this: void, slug: string): V | null | undefined;
  /** The value for `slug` (null: no such tenant), from the cache when it may be trusted. */
  get(this: void, slug: string): Promise<V | null>;
}

export function createSlugCache<V>(opts: {
  changes: ChangeFeed | undefined;
  load: (slug: string) => Promise<V | null>;
  /** The tenant a value belongs to: a change names a tenant by id, and not always by slug. */
  tenantId: (value: V) => string;
  now?: () => number;
}): SlugCache<V> {
  const { changes, load } = opts;
  const now = opts.now ?? (() => performance.now());
  const known = new Map<string, { value: V; at: number }>();
  const unknown = new Map<string, number>();
  const inFlight = new Map<string, { generation: number; promise: Promise<V | null> }>();
  // Bumped by every change: a load that started before a change must not be stored after it.
  let generation = 0;

  changes?.subscribe({
    onChange(change) {
      generation++;
      if (change.slug) {
        known.delete(change.slug);
        unknown.delete(change.slug);
      }
      for (const [slug, v] of known) if (opts.tenantId(v.value) === change.tenantId) known.delete(slug);
    },
    onReset() {
      generation++;
      known.clear();
      unknown.clear();
    },
  });

  function store(slug: string, value: V | null) {
    if (value !== null) {
      if (known.size >= MAX_ENTRIES) known.delete(known.keys().next().value!);
      known.set(slug, { value, at: now() });
    } else {
      if (unknown.size >= MAX_UNKNOWN) unknown.delete(unknown.keys().next().value!);
      unknown.set(slug, now());
    }
  }

  function peek(slug: string): V | null | undefined {
    if (changes?.live !== true) return undefined;
    const hit = known.get(slug);
    if (hit) return now() - hit.at < MAX_AGE_MS ? hit.value : undefined;
    const miss = unknown.get(slug);
    return miss !== undefined && now() - miss < MAX_AGE_MS ? null : undefined;
  }

  return {
    peek,
    async get(slug) {
      const caching = changes?.live === true;
      if (caching) {
        const held = peek(slug);
        if (held !== undefined) return held;
        const pending = inFlight.get(slug);
        if (pending && pending.generation === generation) return pending.promise;
      }
      const started = generation;
      const promise = load(slug);
      if (!caching) return promise;
      inFlight.set(slug, { generation: started, promise });
      try {
        const value = await promise;
        if (changes?.live && generation === started) store(slug, value);
        return value;
      } finally {
        if (inFlight.get(slug)?.promise === promise) inFlight.delete(slug);
      }
    },
  };
}
