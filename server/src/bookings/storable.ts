const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A string PostgreSQL text and jsonb can hold: U+0000 and lone surrogates
 * become U+FFFD. Replaced, not removed, so that a key can never turn into
 * another key by cleaning (`calbridge_tenant\u0000` stays a different key from
 * `calbridge_tenant`).
 */
export function storableText(s: string): string {
  return s.replace(/\u0000/g, '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
}

/** {@link storableText} over every string and key of a JSON-like value. */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value instanceof Date) return value;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storable(v)])) as T;
  return value;
}
