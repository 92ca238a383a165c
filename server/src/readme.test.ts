import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-support/app.js';

// The README's API table is checked against the routes the app really has, so it cannot fall
// behind: every route is named there, in full or as `…/<its last segments>` after its parent.

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const api = readme.slice(readme.indexOf('<!-- api:begin -->'), readme.indexOf('<!-- api:end -->'));

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

function routePaths(app: Express): string[] {
  const out = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route && typeof layer.route.path === 'string') out.add(layer.route.path);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...out];
}

/** Named in full, or abbreviated as `…/a/b` (or `…/b`) beside its parent. */
function documented(path: string): boolean {
  if (api.includes(`${path}\``) || api.includes(`${path} `) || api.includes(`${path}?`)) return true;
  const parts = path.split('/').filter(Boolean);
  for (let n = 1; n <= Math.min(3, parts.length - 1); n++) {
    if (api.includes(`…/${parts.slice(-n).join('/')}\``)) return true;
  }
  return false;
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('README', () => {
  it('when the API table is compared with the app, then every route the app serves is named in it', () => {
    const paths = routePaths(t.app).filter((p) => p.startsWith('/v1/') || ['/healthz', '/readyz', '/metrics', '/privacy'].includes(p));
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((p) => !documented(p))).toEqual([]);
  });

  it("when the widget's error codes are compared with the README, then each calbridge-error code is listed", () => {
    const source = readFileSync(new URL('../../widget/src/shared/lib/widget-error.ts', import.meta.url), 'utf8');
    const union = source.slice(source.indexOf('export type WidgetErrorCode ='), source.indexOf(';', source.indexOf('export type WidgetErrorCode =')));
    const codes = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(5);
    expect(codes.filter((c) => !readme.includes(`\`${c}\``))).toEqual([]);
  });
});
