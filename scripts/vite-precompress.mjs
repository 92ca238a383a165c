// A Vite plugin shared by the widget and the console builds: beside every JavaScript and CSS
// file it writes, a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) copy. The server
// sends the copy the browser accepts (server/src/http/precompressed.ts), so the bytes a visitor
// downloads are the compressed ones, made once at build time rather than on every request.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** The plugin (its type: vite-precompress.d.mts). */
export function precompress() {
  return {
    name: 'calbridge-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const fileName of Object.keys(bundle)) {
        if (!/\.(?:js|css)$/.test(fileName)) continue;
        const file = join(options.dir ?? 'dist', fileName);
        const body = readFileSync(file);
        writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }));
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
      }
    },
  };
}
