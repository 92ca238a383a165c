import type { ServerResponse } from 'node:http';

/**
 * Headers for the widget's static files. Client websites load `widget.js` with
 * `<script type="module">`, which browsers fetch in CORS mode, and the bundle then imports
 * its lazy chunks from our origin: without `Access-Control-Allow-Origin` the snippet works on
 * no website but ours. The files are public and fetched without credentials, so `*` is right.
 * HTML (the demo page) keeps the same-origin default.
 */
export function widgetAssetHeaders(res: ServerResponse, path: string): void {
  if (!/\.(?:js|mjs|map|json)$/.test(path)) return;
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
}
