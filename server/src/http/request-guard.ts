import type { RequestHandler } from 'express';
import { InvalidRequest } from '../errors.js';
import { findBadText, isBadText } from './text-guard.js';

/**
 * Malformed text is refused as a class, before any route sees it (issue 13, finding 4):
 * a path segment that is not valid percent-encoded UTF-8, or that decodes to a NUL or an
 * unpaired surrogate, and any such string in the query, answer 400 `invalid_request`.
 * Mounted before every router, the webhook intake's included (its body is raw bytes and is
 * left to the intake, which stores every verified delivery).
 */
export const urlGuard: RequestHandler = (req, _res, next) => {
  for (const segment of req.path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new InvalidRequest([{ path: 'path', message: 'not valid percent-encoded UTF-8' }]);
    }
    if (isBadText(decoded)) throw new InvalidRequest([{ path: 'path', message: 'contains a NUL or an unpaired surrogate' }]);
  }
  const bad = findBadText(req.query, 'query');
  if (bad) throw new InvalidRequest([{ path: bad, message: 'contains a NUL or an unpaired surrogate' }]);
  next();
};

/**
 * The same for parsed JSON bodies (values and keys, at any depth, and nesting deeper than any
 * contract): mounted right after the JSON parser. A Buffer body (the webhook intake) is skipped.
 */
export const bodyGuard: RequestHandler = (req, _res, next) => {
  const bad = findBadText(req.body, 'body');
  if (bad) throw new InvalidRequest([{ path: bad, message: 'contains a NUL, an unpaired surrogate, or nests too deeply' }]);
  next();
};
