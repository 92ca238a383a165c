import { readFileSync } from 'node:fs';
import MagicString from 'magic-string';
import { defineConfig } from 'vite';

// Library build: dist/widget.js (the element, Lit included) plus lazy chunks (the consent step
// and frame session, native mode, locales), and the demo page copied to dist/index.html.
export default defineConfig({
  build: {
    target: 'es2022',
    sourcemap: true,
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'widget.js' },
    rolldownOptions: {
      // Lets shared modules merge into widget.js instead of an extra chunk on the initial load.
      preserveEntrySignatures: 'allow-extension',
      output: { minify: true, chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
  plugins: [
    {
      // The bundler leaves template literals alone: collapse the whitespace of Lit's css``
      // and html`` templates (line breaks and indentation only; spaces within a line stay).
      name: 'calbridge-minify-templates',
      transform(code, id) {
        if (!/\/src\/.*\.ts$/.test(id) || id.endsWith('.test.ts')) return null;
        const out = new MagicString(code);
        for (const m of code.matchAll(/(css|html)`([^`]*)`/g)) {
          const body = m[2]!;
          const min =
            m[1] === 'css'
              ? body
                  .replace(/\s+/g, ' ')
                  .replace(/\s*([{};,>])\s*/g, '$1')
                  .replace(/:\s+/g, ':')
                  .replace(/;}/g, '}')
                  .replace(/([^\w.])0\./g, '$1.')
                  .replace(/='(\w+)'\]/g, '=$1]')
                  .trim()
              : body.replace(/>\s*\n\s*</g, '><').replace(/\s*\n\s*/g, ' ');
          const start = m.index! + m[1]!.length + 1;
          if (min !== body) out.overwrite(start, start + body.length, min);
        }
        return { code: out.toString(), map: out.generateMap({ hires: true, source: id }) };
      },
    },
    {
      // widget.js names the lazy chunks it may `modulepreload` once the visitor comes near
      // (calbridge-booking.element.ts CHUNKS): their hashed file names are known only now.
      // The framed modes' code (our side of Cal.com's embed protocol) is in the lazy chunk, so
      // that is the chunk "embed" names.
      name: 'calbridge-chunk-names',
      generateBundle(_options, bundle) {
        const file = (suffix: string) =>
          Object.values(bundle).find((c) => c.type === 'chunk' && c.facadeModuleId?.endsWith(suffix))?.fileName;
        const entry = bundle['widget.js'];
        if (entry?.type !== 'chunk') return;
        for (const [mark, suffix] of [['__CALBRIDGE_CHUNK_EMBED__', '/calbridge-booking.lazy.ts'], ['__CALBRIDGE_CHUNK_NATIVE__', '/native/index.ts']] as const) {
          const name = file(suffix);
          if (!name) this.error(`no chunk for ${suffix}`);
          entry.code = entry.code.replace(mark, `./${name}`);
        }
      },
    },
    {
      name: 'calbridge-demo-page',
      generateBundle() {
        this.emitFile({ type: 'asset', fileName: 'index.html', source: readFileSync('demo/index.html', 'utf8') });
        // The classic-script form of the snippet; comments and indentation dropped (it is ES5).
        const loader = readFileSync('loader/loader.js', 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/^\s*\/\/.*$/gm, '')
          .replace(/\n\s*/g, '');
        this.emitFile({ type: 'asset', fileName: 'loader.js', source: loader });
      },
    },
  ],
});
