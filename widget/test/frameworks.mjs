// Test-only: React 19 ships CommonJS only, so the test server bundles it to one ES module
// (esbuild) served at /__frameworks/react.js. Vue 3 has its own ES build, imported directly.
import { build } from 'esbuild';

let react;
export function frameworks() {
  return async (ctx, next) => {
    if (ctx.path !== '/__frameworks/react.js') return next();
    react ??= build({
      stdin: {
        contents: "import * as React from 'react'; import { createRoot } from 'react-dom/client'; import { flushSync } from 'react-dom'; export { React, createRoot, flushSync };",
        resolveDir: process.cwd(),
        loader: 'js',
      },
      bundle: true,
      format: 'esm',
      write: false,
      minify: true,
      define: { 'process.env.NODE_ENV': '"production"' },
    }).then((r) => r.outputFiles[0].text);
    ctx.type = 'text/javascript';
    ctx.body = await react;
  };
}
