import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import MagicString from 'magic-string';
import { defineConfig } from 'vite';
import { precompress } from '../scripts/vite-precompress.mjs';

// Library build: dist/widget.js (the element, Lit included) plus lazy chunks (the consent step
// and frame session, native mode, locales), and the demo page copied to dist/index.html.
export default defineConfig({
  build: {
    target: 'es2022',
    // Maps without a `sourceMappingURL` comment: the server names them in a `SourceMap` header when
    // it serves them (security-headers.ts), so the comment's bytes are not fetched before the
    // first interaction (issue 15, decision 0032).
    sourcemap: 'hidden',
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'widget.js' },
    rolldownOptions: {
      // Lets shared modules merge into widget.js instead of an extra chunk on the initial load.
      preserveEntrySignatures: 'allow-extension',
      output: { minify: true, comments: false, chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
  plugins: [
    // widget.js, loader.js and the chunks, each also as .br and .gz (served by Accept-Encoding).
    precompress(),
    {
      // The bundler leaves template literals alone: collapse the whitespace of Lit's css``
      // and html`` templates (line breaks and indentation only; spaces within a line stay).
      name: 'calbridge-minify-templates',
      transform(code, id) {
        if (!/\/src\/.*\.ts$/.test(id) || id.endsWith('.test.ts')) return null;
        const out = new MagicString(code);
        // Every literal part of every css``/html`` template, nested ones (html`` inside an
        // html`` expression) included: [kind, start, end].
        const parts: Array<[string, number, number]> = [];
        const literal = (kind: string, i: number): number => {
          let s = i;
          while (i < code.length) {
            const c = code[i];
            if (c === '\\') i += 2;
            else if (c === '`') return parts.push([kind, s, i]), i + 1;
            else if (c === '$' && code[i + 1] === '{') {
              parts.push([kind, s, i]);
              i = expression(i + 2);
              s = i;
            } else i++;
          }
          return i;
        };
        const expression = (i: number): number => {
          for (let depth = 0; i < code.length; ) {
            const c = code[i]!;
            if (c === '`') i = literal(/(css|html)$/.exec(code.slice(0, i))?.[1] ?? '', i + 1);
            else if (c === "'" || c === '"') i = code.indexOf(c, i + 1) + 1 || code.length;
            else if (c === '}' && !depth--) return i + 1;
            else {
              if (c === '{') depth++;
              i++;
            }
          }
          return i;
        };
        let end = 0;
        for (const m of code.matchAll(/\b(css|html)`/g)) if (m.index >= end) end = literal(m[1]!, m.index + m[0].length);
        for (const [kind, start, end] of parts) {
          if (!kind || start === end) continue;
          const body = code.slice(start, end);
          const min: string =
            kind === 'css'
              ? body
                  .replace(/\s+/g, ' ')
                  .replace(/\s*([{};,>])\s*/g, '$1')
                  .replace(/:\s+/g, ':')
                  .replace(/;}/g, '}')
                  .replace(/([^\w.])0\./g, '$1.')
                  .replace(/='(\w+)'\]/g, '=$1]')
              : // A line break before a tag's `>` or `/>` is the formatter's (attributes on their own lines).
                body.replace(/\s*\n\s*(\/?>)/g, '$1').replace(/>\s*\n\s*</g, '><').replace(/\s*\n\s*/g, ' ');
          // A css`` template's text is trimmed at its ends (whitespace there means nothing).
          const trimmed = kind === 'css' ? (code[start - 1] === '`' ? min.trimStart() : min) : min;
          const final = kind === 'css' && code[end] === '`' ? trimmed.trimEnd() : trimmed;
          if (final !== body) out.overwrite(start, end, final);
        }
        return { code: out.toString(), map: out.generateMap({ hires: true, source: id }) };
      },
    },
    {
      name: 'calbridge-demo-page',
      generateBundle() {
        this.emitFile({ type: 'asset', fileName: 'index.html', source: readFileSync('demo/index.html', 'utf8') });
        // The classic-script form of the snippet, minified as ES5 (it must run anywhere): it is
        // fetched before widget.js, so its bytes count in the first-interaction budget (issue 15).
        const loader = transformSync(readFileSync('loader/loader.js', 'utf8'), { minify: true, target: 'es5' }).code.trimEnd();
        this.emitFile({ type: 'asset', fileName: 'loader.js', source: loader });
      },
    },
  ],
});
