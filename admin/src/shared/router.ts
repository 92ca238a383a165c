/** Client-side routes under /admin, in the History API; links are real links (middle-click, keyboard). */
export type Route =
  | { page: 'tenants' }
  | { page: 'tokens' }
  | { page: 'tenant'; slug: string; section: string }
  | { page: 'not-found' };

export const SECTIONS = [
  ['install', 'Install'],
  ['calcom', 'Cal.com connection'],
  ['bookings', 'Bookings'],
  ['leads', 'Leads'],
  ['webhook-deliveries', 'Webhook deliveries'],
  ['crm', 'CRM'],
  ['privacy', 'Privacy'],
  ['audit', 'Audit'],
] as const;

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '');
  if (path === '/admin' || path === '/admin/tenants') return { page: 'tenants' };
  if (path === '/admin/tokens') return { page: 'tokens' };
  const m = /^\/admin\/tenants\/([a-z0-9-]{1,63})(?:\/([a-z-]+))?$/.exec(path);
  if (m) {
    const section = m[2] ?? 'install';
    if (SECTIONS.some(([id]) => id === section)) return { page: 'tenant', slug: m[1]!, section };
  }
  return { page: 'not-found' };
}

export function navigate(href: string): void {
  history.pushState(null, '', href);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** Turns clicks on same-origin /admin links into client-side navigation. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.composedPath().find((n) => n instanceof HTMLAnchorElement) ?? null);
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin || !a.pathname.startsWith('/admin/') || a.pathname.startsWith('/admin/login')) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}
