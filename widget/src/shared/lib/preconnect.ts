/** Adds `<link rel="preconnect">` to `origin` once per page: DNS, TCP and TLS start at the consent click. */
export function preconnect(origin: string, doc: Document = document): void {
  if (doc.head.querySelector(`link[rel=preconnect][href="${CSS.escape(origin)}"]`)) return;
  const l = doc.createElement('link');
  l.rel = 'preconnect';
  l.href = origin;
  doc.head.append(l);
}
