const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Headers of every page the OAuth flow shows: no caching, nothing loaded from anywhere. */
export const PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Content-Type': 'text/html; charset=utf-8',
} as const;

/** A small, readable, accessible page; `code` is the stable error code when there is one. */
export function renderPage(p: { title: string; message: string; code?: string }): string {
  const code = p.code
    ? `<p>Error code: <code id="error-code" data-code="${escape(p.code)}">${escape(p.code)}</code></p>`
    : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(p.title)} · Calbridge</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}code{background:#f2f2f2;padding:.1rem .3rem}</style></head>
<body><main><h1>${escape(p.title)}</h1><p>${escape(p.message)}</p>${code}</main></body>
</html>`;
}
