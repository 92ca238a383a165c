import { WidgetError, type WidgetErrorCode } from '../lib/widget-error.js';

// Problem codes the config request tells apart; anything else is `server_error`. The requests
// after consent know two more (send.ts), which widget.js need not carry.
const KNOWN: readonly WidgetErrorCode[] = ['tenant_not_found', 'origin_not_allowed', 'rate_limited'];

/**
 * Calls the Calbridge server (without cookies) and returns the parsed JSON body. Failures become
 * a {@link WidgetError}: no answer at all is `network_error`; an `application/problem+json`
 * answer keeps its `code` when it is one of `known`. Aborts propagate unchanged. `init` is a plain
 * GET's `{}` (the config, in widget.js) or what `sendJson` makes (the lazy chunks' requests, send.ts).
 */
export async function requestJson(url: string, init: RequestInit, signal?: AbortSignal, known = KNOWN): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, credentials: 'omit', signal: signal ?? null });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new WidgetError('network_error', 0, { cause: e });
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const code = (body as { code?: unknown } | undefined)?.code as WidgetErrorCode;
    throw new WidgetError(known.includes(code) ? code : 'server_error', res.status);
  }
  return body;
}

/** `${server}/v1/widget/${tenant}/${path}` with the tenant slug escaped. */
export const widgetUrl = (server: string, tenant: string, path: string): string =>
  `${server.replace(/\/+$/, '')}/v1/widget/${encodeURIComponent(tenant)}/${path}`;
