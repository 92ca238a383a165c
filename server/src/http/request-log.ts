import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { routeOf } from './problem.js';

/** The caller's `X-Request-Id` when it is a plain token, else a fresh one. */
export function requestIdFrom(incoming: string | undefined): string {
  return incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

/**
 * One log line per request: id, method, route pattern, status, duration.
 * Deliberately no URL, query, headers or body: they can hold emails and tokens.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const id = requestIdFrom(req.get('x-request-id'));
    res.setHeader('X-Request-Id', id);
    res.on('finish', () => {
      logger.info(
        {
          requestId: id,
          method: req.method,
          route: routeOf(req),
          status: res.statusCode,
          ms: Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100,
        },
        'request',
      );
    });
    next();
  };
}
