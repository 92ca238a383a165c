import { readFileSync } from 'node:fs';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test-support/database.js';
import { asAdmin, asMetrics, createTestApp, type TestApp } from '../test-support/app.js';

// Issue 13, finding 9: every page we serve has a strict CSP and cannot be framed; /metrics and
// source maps are not public.

interface Vector {
  class: string;
  description: string;
  path: string;
  auth?: 'none' | 'wrong' | 'right' | 'admin';
  env?: Record<string, string>;
  expected: { status: number; code?: string; page?: boolean; script?: boolean; frameable?: boolean };
}
const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/exposure-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

const INLINE = "document.body.dataset.ready = 'yes';";
const widgetDir = mkdtempSync(join(tmpdir(), 'calbridge-widget-'));
mkdirSync(join(widgetDir, 'chunks'));
writeFileSync(join(widgetDir, 'index.html'), `<!doctype html><html lang="en"><head><title>demo</title><script type="module" src="./widget.js"></script></head><body><script type="module">${INLINE}</script></body></html>`);
// As built: no sourceMappingURL comment (decision 0032); the server names the map in a header.
writeFileSync(join(widgetDir, 'widget.js'), 'export {};\n');
writeFileSync(join(widgetDir, 'widget.js.map'), '{"version":3,"sources":[],"mappings":""}');
writeFileSync(join(widgetDir, 'chunks', 'a.js.map'), '{"version":3,"sources":[],"mappings":""}');

let database: TestDatabase;
const apps = new Map<string, TestApp>();
async function appFor(env: Record<string, string> = {}): Promise<TestApp> {
  const key = JSON.stringify(env);
  if (!apps.has(key)) apps.set(key, await createTestApp({ database, env: { CALBRIDGE_WIDGET_DIR: widgetDir, CALCOM_APP_URL: 'https://cal.example.test', ...env } }));
  return apps.get(key)!;
}
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
  rmSync(widgetDir, { recursive: true, force: true });
});

const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));

describe('pages, scripts, metrics and source maps (finding 9)', () => {
  it.each(vectors.map((v) => [`${v.class}: ${v.description}`, v] as const))('when %s is asked for, then it answers as the table says', async (_n, v) => {
    const t = await appFor(v.env);
    let r = request(t.app).get(v.path);
    if (v.auth === 'right') r = r.set(asMetrics);
    if (v.auth === 'wrong') r = r.set('Authorization', `Bearer ${'x'.repeat(48)}`);
    if (v.auth === 'admin') r = r.set(asAdmin);
    const res = await r;
    expect(res.status).toBe(v.expected.status);
    if (v.expected.code) expect(res.body.code).toBe(v.expected.code);
    const csp: string | undefined = res.headers['content-security-policy'];
    if (v.expected.page) {
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const d = directives(csp ?? '');
      expect(d.get('frame-ancestors')).toEqual(["'none'"]);
      expect(d.get('script-src') ?? d.get('default-src')).not.toContain("'unsafe-inline'");
      expect(d.get('default-src')).toEqual(["'none'"]);
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    if (v.expected.frameable === false) {
      expect(directives(csp ?? '').get('frame-ancestors')).toEqual(["'none'"]);
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    if (v.expected.script) {
      expect(csp).toBeUndefined();
      expect(res.headers['access-control-allow-origin']).toBe('*');
    }
  });

  it('when source maps are switched on, then widget.js names its map in a SourceMap header; when off, it names none', async () => {
    const on = await request((await appFor({ CALBRIDGE_SERVE_SOURCE_MAPS: 'true' })).app).get('/widget.js');
    expect(on.status).toBe(200);
    expect(on.headers['sourcemap']).toBe('widget.js.map');
    const off = await request((await appFor()).app).get('/widget.js');
    expect(off.status).toBe(200);
    expect(off.headers['sourcemap']).toBeUndefined();
  });

  it('when the demo page carries an inline script, then only that exact script is allowed, by its hash', async () => {
    const res = await request((await appFor()).app).get('/');
    const d = directives(res.headers['content-security-policy'] as string);
    const hash = `'sha256-${createHash('sha256').update(INLINE).digest('base64')}'`;
    expect(d.get('script-src')).toEqual(["'self'", hash]);
    expect(d.get('frame-src')).toEqual(['https://cal.example.test']);
  });
});
