/**
 * Text PostgreSQL cannot store or that no contract of ours allows: the NUL character
 * (`text` refuses it: error 22021, which used to surface as a 500) and UTF-16 surrogates
 * without their pair (not Unicode text; they would be stored as U+FFFD, i.e. changed).
 */
const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isBadText(s: string): boolean {
  return NUL_OR_LONE_SURROGATE.test(s);
}

/** How deep a JSON value any of our contracts accepts may nest; deeper values are refused before validation. */
const MAX_JSON_DEPTH = 32;

/**
 * The path of the first string (value or object key) in `value` that is bad text, or of the
 * first place nested deeper than {@link MAX_JSON_DEPTH}; null when everything is clean.
 * Iterative, so a hostile nesting depth cannot exhaust the stack.
 */
export function findBadText(value: unknown, root: string): string | null {
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (isBadText(v)) return path;
      continue;
    }
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    if (depth >= MAX_JSON_DEPTH) return path;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], `${path}.${i}`, depth + 1]);
      continue;
    }
    for (const [k, child] of Object.entries(v)) {
      if (isBadText(k)) return `${path}.${k.replace(/[\u0000\uD800-\uDFFF]/g, '?')}`;
      stack.push([child, `${path}.${k}`, depth + 1]);
    }
  }
  return null;
}
