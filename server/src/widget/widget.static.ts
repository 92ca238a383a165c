import type { ServerResponse } from 'node:http';

/** Hashed chunk file names (`chunks/name-HASH.js`, vite's chunkFileNames): their content never changes. */
const HASHED = /[\\/]chunks[\\/][^\\/]+-[A-Za-z0-9_-]{8,}\.js(?:\.map)?$/;

/**
 * Headers for the widget's static files. Client websites load `widget.js` with
 * `<script type="module">`, which browsers fetch in CORS mode, and the bundle then imports
 * its lazy chunks from our origin: without `Access-Control-Allow-Origin` the snippet works on
 * no website but ours. The files are public and fetched without credentials, so `*` is right.
 * HTML (the demo page) keeps the same-origin default.
 *
 * Caching: chunks carry a content hash in their name, so they are cached for a year and marked
 * `immutable` (no revalidation on reload). `widget.js` and `loader.js` keep stable names (they
 * are what sites paste), so they stay short-lived, served stale while revalidating.
 */
export function widgetAssetHeaders(res: ServerResponse, path: string): void {
  if (!/\.(?:js|mjs|map|json)$/.test(path)) return;
  // Scripts, not pages: the document policy of app.ts's security headers does not apply to them.
  res.removeHeader('Content-Security-Policy');
  res.removeHeader('X-Frame-Options');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader(
    'Cache-Control',
    HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'public, max-age=300, stale-while-revalidate=86400',
  );
}
