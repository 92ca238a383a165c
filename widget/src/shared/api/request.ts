import { WidgetError, type WidgetErrorCode } from '../lib/widget-error.js';

// Problem codes the server may answer with that the widget tells apart; anything else is `server_error`.
const KNOWN: readonly WidgetErrorCode[] = ['tenant_not_found', 'origin_not_allowed', 'rate_limited', 'session_expired', 'calcom_rejected'];

/**
 * Calls the Calbridge server and returns the parsed JSON body. Failures become a
 * {@link WidgetError}: no answer at all is `network_error`; an `application/problem+json`
 * answer keeps its `code` when the widget knows it. Aborts propagate unchanged.
 */
export async function requestJson(
  url: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; token?: string; headers?: Record<string, string>; keepalive?: boolean },
  signal?: AbortSignal,
): Promise<unknown> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      credentials: 'omit',
      keepalive: !!init.keepalive,
      signal: signal ?? null,
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new WidgetError('network_error', 0, { cause: e });
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const code = (body as { code?: unknown } | undefined)?.code as WidgetErrorCode;
    throw new WidgetError(KNOWN.includes(code) ? code : 'server_error', res.status);
  }
  return body;
}

/** `${server}/v1/widget/${tenant}/${path}` with the tenant slug escaped. */
export const widgetUrl = (server: string, tenant: string, path: string): string =>
  `${server.replace(/\/+$/, '')}/v1/widget/${encodeURIComponent(tenant)}/${path}`;
