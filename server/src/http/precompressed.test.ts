import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { widgetAssetHeaders } from '../widget/widget.static.js';
import { acceptedEncodings, precompressed } from './precompressed.js';

const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/accept-encoding-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Array<{ header: string | null; accepted: string[]; why: string }>;
};

describe('Accept-Encoding, read as RFC 9110 says', () => {
  for (const v of vectors)
    it(`when a request says ${JSON.stringify(v.header)} (${v.why}), then ${v.accepted.join(', ') || 'no coding'} may be sent`, () => {
      expect(acceptedEncodings(v.header ?? undefined)).toEqual(v.accepted);
    });
});

// A build as the widget's is written (scripts/vite-precompress.mjs): widget.js with both copies,
// a hashed chunk with a gzip copy only, a script with none.
const dir = mkdtempSync(join(tmpdir(), 'calbridge-precompressed-'));
const widget = Buffer.from(`export const x = ${JSON.stringify('calbridge '.repeat(400))};\n`);
const chunk = Buffer.from(`export default ${JSON.stringify('chunk '.repeat(300))};\n`);
mkdirSync(join(dir, 'chunks'));
writeFileSync(join(dir, 'widget.js'), widget);
writeFileSync(join(dir, 'widget.js.br'), brotliCompressSync(widget));
writeFileSync(join(dir, 'widget.js.gz'), gzipSync(widget));
writeFileSync(join(dir, 'chunks', 'lazy-AbCd1234.js'), chunk);
writeFileSync(join(dir, 'chunks', 'lazy-AbCd1234.js.gz'), gzipSync(chunk));
writeFileSync(join(dir, 'plain.js'), 'export {};\n');

let server: Server;
let origin: string;
beforeAll(async () => {
  const app = express();
  app.use(precompressed(dir, widgetAssetHeaders));
  app.use(express.static(dir, { setHeaders: widgetAssetHeaders }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** The raw answer (no client-side decoding), as a browser's network stack receives it. */
function get(path: string, headers: Record<string, string> = {}, method = 'GET', at = origin): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // `path` as written: a URL would resolve its dot segments before it is sent.
    const { hostname, port } = new URL(at);
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const CHROMIUM = { 'accept-encoding': 'gzip, deflate, br, zstd' };

describe('built scripts, sent compressed', () => {
  it('when a browser that accepts brotli asks for widget.js, then it gets the brotli copy with the plain file\'s type, caching and CORS headers', async () => {
    const plain = await get('/widget.js');
    const br = await get('/widget.js', CHROMIUM);
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['vary']).toMatch(/Accept-Encoding/i);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(widget.length / 4);
    expect(brotliDecompressSync(br.body).equals(widget)).toBe(true);
    for (const h of ['content-type', 'cache-control', 'access-control-allow-origin', 'cross-origin-resource-policy']) expect(br.headers[h]).toBe(plain.headers[h]);
    expect(br.headers['etag']).not.toBe(plain.headers['etag']);
  });

  it('when a browser accepts gzip only, or refuses brotli with q=0, then it gets the gzip copy', async () => {
    for (const accept of ['gzip, deflate', 'br;q=0, gzip']) {
      const r = await get('/widget.js', { 'accept-encoding': accept });
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(r.body).equals(widget)).toBe(true);
    }
  });

  it('when a client accepts no coding, then it gets the file as it is, marked as varying by Accept-Encoding', async () => {
    for (const headers of [{}, { 'accept-encoding': 'identity' }] as Array<Record<string, string>>) {
      const r = await get('/widget.js', headers);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.headers['vary']).toMatch(/Accept-Encoding/i);
      expect(r.body.equals(widget)).toBe(true);
    }
  });

  it('when a file has only a gzip copy and the client accepts brotli as well, then the gzip copy is sent, cached as a hashed chunk', async () => {
    const r = await get('/chunks/lazy-AbCd1234.js', CHROMIUM);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gunzipSync(r.body).equals(chunk)).toBe(true);
  });

  it('when a file has no copies, then it is sent as it is, without a Vary it does not need', async () => {
    const r = await get('/plain.js', CHROMIUM);
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers['vary']).toBeUndefined();
    expect(r.body.toString()).toBe('export {};\n');
  });

  it('when the browser revalidates its brotli copy, then 304 Not Modified, with no body', async () => {
    const first = await get('/widget.js', CHROMIUM);
    const again = await get('/widget.js', { ...CHROMIUM, 'if-none-match': String(first.headers['etag']) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('when HEAD asks for widget.js with brotli accepted, then the headers say brotli and its length, with no body', async () => {
    const r = await get('/widget.js', CHROMIUM, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(Number(r.headers['content-length'])).toBe(readFileSync(join(dir, 'widget.js.br')).length);
    expect(r.body.length).toBe(0);
  });

  it('when a copy goes missing after the server started (a rebuild), then the file is sent as it is', async () => {
    writeFileSync(join(dir, 'gone.js'), chunk);
    writeFileSync(join(dir, 'gone.js.gz'), gzipSync(chunk));
    const app = express();
    app.use(precompressed(dir, widgetAssetHeaders));
    app.use(express.static(dir, { setHeaders: widgetAssetHeaders }));
    rmSync(join(dir, 'gone.js.gz'));
    const s = app.listen(0, '127.0.0.1');
    await new Promise((r) => s.once('listening', r));
    try {
      const r = await get('/gone.js', CHROMIUM, 'GET', `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.body.equals(chunk)).toBe(true);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });

  it('when a copy is asked for by its own name or by a path outside the build, then nothing but the static handler answers it', async () => {
    // The copies themselves are files of the build too (served as they are, by their own name,
    // never with a Content-Encoding); a path that climbs out is not in the build.
    const byName = await get('/widget.js.br', CHROMIUM);
    expect(byName.headers['content-encoding']).toBeUndefined();
    expect((await get('/%2e%2e/widget.js', CHROMIUM)).status).toBe(404);
  });
});
