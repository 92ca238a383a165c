import { OutboundAddressRefused } from './crm.pinned-fetch.js';

/**
 * What one attempt to hand a message to a destination came to. Senders never
 * throw for answers or network failures; they describe them here.
 */
export interface SendResult {
  ok: boolean;
  /** HTTP status of the (last) answer; null when none came. */
  statusCode: number | null;
  /** The receiver is gone for good (410): the destination gets disabled. */
  gone: boolean;
  /** Seconds the receiver asked us to wait (Retry-After), if it did. */
  retryAfterSeconds: number | null;
  /** A short code: `timeout`, `network`, `http_503`, `private_address`…; never a body. */
  error: string | null;
}

export const sent = (statusCode: number): SendResult => ({ ok: true, statusCode, gone: false, retryAfterSeconds: null, error: null });

export const failed = (error: string, statusCode: number | null = null, retryAfterSeconds: number | null = null): SendResult => ({
  ok: false,
  statusCode,
  gone: statusCode === 410,
  retryAfterSeconds,
  error,
});

/** Reads Retry-After: delta seconds or an HTTP date (relative to `now`). */
function retryAfterSeconds(header: string | null, now: Date): number | null {
  if (!header) return null;
  const v = header.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.ceil((t - now.getTime()) / 1000));
}

/** A failed answer as a {@link SendResult}. The body is drained, never kept. */
export async function fromResponse(res: Response, now: Date): Promise<SendResult> {
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return sent(res.status);
  return failed(`http_${res.status}`, res.status, retryAfterSeconds(res.headers.get('retry-after'), now));
}

/** A thrown fetch as a {@link SendResult}: refused addresses and timeouts apart from other network failures. */
export function fromThrown(err: unknown): SendResult {
  if (err instanceof OutboundAddressRefused) return failed(err.code);
  const name = err instanceof Error ? err.name : '';
  return failed(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network');
}
