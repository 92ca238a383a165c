import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, InternalError, InvalidJson, InvalidRequest, NotFound, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';
import type { Logger } from '../logger.js';

/** Turns what body-parser throws into our errors, so every client error has a code. */
function fromBodyParser(err: unknown): AppError | undefined {
  const e = err as { type?: string; status?: number; limit?: number } | undefined;
  switch (e?.type) {
    case 'entity.parse.failed':
      return new InvalidJson(err);
    case 'entity.too.large':
      return new PayloadTooLarge(`${e.limit ?? 'the limit'} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaType('UTF-8 JSON');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new InvalidRequest([], 'The request body could not be read.', err);
    default:
      // Any other client error a library raises on purpose (http-errors with `expose`, e.g. the
      // router's "failed to decode param"): a 400 with our code, not an unhandled 500.
      if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && (err as { expose?: unknown }).expose === true) {
        return new InvalidRequest([], 'The request could not be read.', err);
      }
      return undefined;
  }
}

function problemType(code: string): string {
  return `urn:calbridge:problem:${code}`;
}

/** What an error answers: status, its own headers and the problem document (serialised). */
export interface ProblemAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The one place errors become HTTP answers: `application/problem+json` with a
 * stable `code`. Unknown errors are logged (without request data) and answered
 * as a generic 500; no stack or internal message ever reaches a client. `route`
 * is the route pattern (never the raw path), for the log line.
 */
export function problemAnswer(err: unknown, logger: Logger, route: string): ProblemAnswer {
  const known = err instanceof AppError ? err : fromBodyParser(err);
  const error = known ?? new InternalError(err);
  if (!known) {
    logger.error({ err: { type: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack }, route }, 'unhandled error');
  } else if (error.status >= 500) {
    logger.warn({ code: error.code, route, cause: (error.cause as Error | undefined)?.message }, 'request failed');
  }
  return {
    status: error.status,
    headers: error.headers,
    body: JSON.stringify({ type: problemType(error.code), title: error.title, status: error.status, code: error.code, detail: error.message, ...error.extra }),
  };
}

/** {@link problemAnswer} as Express's error handler. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const answer = problemAnswer(err, logger, routeOf(req));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    res.status(answer.status).type('application/problem+json').send(answer.body);
  };
}

export const notFoundHandler: RequestHandler = () => {
  throw new NotFound();
};

/** The route pattern, never the raw path: paths may carry emails or tokens. */
export function routeOf(req: { baseUrl?: string; route?: { path?: unknown }; res?: { locals?: Record<string, unknown> } }): string {
  const path = req.route?.path;
  if (typeof path === 'string') return `${req.baseUrl ?? ''}${path}`;
  // A request a mounted gate answered before any route matched (e.g. the tenant gate's 404).
  const gate = req.res?.locals?.routePattern;
  return typeof gate === 'string' ? gate : 'unmatched';
}
