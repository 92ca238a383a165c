import { WidgetError } from './widget-error.js';

// Tiny structural readers used instead of zod in the bundle (size budget). Each reader
// mirrors a schema in @calbridge/shared; widget tests run both over the same samples.

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isStr = (v: unknown, max = 4000, min = 1): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
/** True when `v` is a string matching `re` (a bare `re.test(v)` would coerce numbers and arrays). */
export const matches = (re: RegExp, v: unknown): v is string => typeof v === 'string' && re.test(v);

const httpUrl = (v: unknown): URL | null => {
  try {
    const u = new URL(v as string);
    return /^https?:$/.test(u.protocol) ? u : null;
  } catch {
    return null;
  }
};

/** True when `v` is an http(s) origin exactly as browsers send it (no path, no trailing slash). */
export const isOrigin = (v: unknown): v is string => httpUrl(v)?.origin === v;

/** True for an absolute http(s) URL of at most 2048 characters. */
export const isHttpUrl = (v: unknown): v is string => isStr(v, 2048) && !!httpUrl(v);

/** Throws `invalid_response` unless `ok`; used after a server answer fails its reader. */
export function must<T>(v: T | null): T {
  if (v === null) throw new WidgetError('invalid_response');
  return v;
}
