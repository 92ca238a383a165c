import { z } from 'zod';
import { InvalidRequest } from '../errors.js';
import { findBadText } from './text-guard.js';

/**
 * The one way opaque cursors (base64url of JSON) are made and read. A cursor is client
 * input: it is decoded as strict UTF-8, its text checked like any other input, and its shape
 * and ranges validated, so a forged cursor is a 400 `invalid_request`, never a database error.
 */

const notOurs = () => new InvalidRequest([{ path: 'query.cursor', message: 'not a cursor this API issued' }]);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A timestamp inside a cursor: ISO 8601, years 1970–9999 (PostgreSQL and JS agree on those). */
export const CursorTime = z.iso.datetime({ offset: true }).transform((v, ctx) => {
  const d = new Date(v);
  if (!Number.isFinite(d.getTime()) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999) {
    ctx.addIssue({ code: 'custom', message: 'out of range' });
    return z.NEVER;
  }
  return d;
});

export const CursorUuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}; throws `invalid_request` for anything else. */
export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.infer<S> {
  let value: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,1000}$/.test(cursor)) throw notOurs();
    value = JSON.parse(utf8.decode(Buffer.from(cursor, 'base64url')));
  } catch {
    throw notOurs();
  }
  if (findBadText(value, 'cursor')) throw notOurs();
  const r = schema.safeParse(value);
  if (!r.success) throw notOurs();
  return r.data;
}

/** A cursor that is just a text key (base64url of UTF-8), e.g. a tenant slug. */
export function decodeTextCursor(cursor: string, pattern: RegExp): string {
  let text: string;
  try {
    text = utf8.decode(Buffer.from(cursor, 'base64url'));
  } catch {
    throw notOurs();
  }
  if (!pattern.test(text)) throw notOurs();
  return text;
}
