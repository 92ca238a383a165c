/**
 * The console's one way to the server: the admin API with the session cookie
 * (same origin), the CSRF token on every change, problem+json read into an
 * ApiError with its stable `code`. A 401 sends the person to sign in again.
 */

export interface Session {
  subject: string;
  roles: string[];
  access: { admin: boolean; managed: string[]; viewed: string[] };
  csrfToken: string;
  /** Where the widget's Cal.com frames come from (the Install section's CSP lines). */
  calcomOrigin: string;
  expiresAt: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let session: Session | null = null;

export function currentSession(): Session | null {
  return session;
}

export function signIn(): never {
  const returnTo = location.pathname.startsWith('/admin') ? location.pathname : '/admin/';
  location.assign(`/admin/login?returnTo=${encodeURIComponent(returnTo)}`);
  throw new ApiError(401, 'unauthorized', 'Signing in');
}

export async function loadSession(): Promise<Session | null> {
  const res = await fetch('/admin/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) return null;
  if (!res.ok) throw new ApiError(res.status, 'session_unavailable', 'The console could not load your session.');
  session = (await res.json()) as Session;
  return session;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = session?.csrfToken ?? '';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? null : JSON.stringify(body), signal: signal ?? null });
  if (res.status === 401) signIn();
  const text = await res.text();
  const data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) {
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    throw new ApiError(res.status, str(data.code) ?? 'error', str(data.detail) ?? str(data.title) ?? `Request failed (${res.status})`, (data.errors as ApiError['errors']) ?? []);
  }
  return data as T;
}

export async function signOut(): Promise<void> {
  const res = await fetch('/admin/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': session?.csrfToken ?? '' } });
  const data = (await res.json().catch(() => ({}))) as { redirect?: string };
  location.assign(data.redirect ?? '/admin/signed-out');
}

export const tenantPath = (slug: string, rest = '') => `/v1/admin/tenants/${encodeURIComponent(slug)}${rest}`;

/** Server-Sent Events of a tenant's logs (server/src/console/live.ts): calls back with the topics that changed. */
export function watchTenant(slug: string, onChange: (topics: string[]) => void): () => void {
  const source = new EventSource(tenantPath(slug, '/events'));
  // The server compares against what it saw when the stream opened: after a reconnect, anything
  // that changed while the stream was down would be missed, so every list is fetched again.
  let opened = 0;
  source.addEventListener('ready', () => {
    if (opened++ > 0) onChange(['webhook-deliveries', 'bookings', 'leads', 'crm']);
  });
  source.addEventListener('change', (e) => {
    try {
      onChange((JSON.parse((e as MessageEvent<string>).data) as { topics: string[] }).topics);
    } catch {
      // A malformed event changes nothing.
    }
  });
  return () => source.close();
}
