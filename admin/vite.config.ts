import { defineConfig } from 'vite';
import { precompress } from '../scripts/vite-precompress.mjs';

// The console at /admin: index.html plus one chunk per page and per tenant section (dynamic
// imports), hashed under assets/. No inline script or style is emitted: the page's CSP has no
// 'unsafe-inline' (server/src/console/console.routes.ts).
export default defineConfig({
  base: '/admin/',
  build: {
    target: 'es2022',
    sourcemap: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rolldownOptions: { output: { minify: true } },
  },
  // Scripts and styles also as .br and .gz, served by Accept-Encoding.
  plugins: [precompress()],
});
