import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import { NotFound } from '../errors.js';

/**
 * Headers that keep our pages from being framed or from running anything they did not ship
 * (issue 13, finding 9). Every answer starts with the strictest policy: nothing may load,
 * nothing may frame it. Pages that need more (the demo page, /privacy, the OAuth pages) set
 * their own policy, always with `frame-ancestors 'none'` and never `'unsafe-inline'` for
 * scripts. widget.js and its chunks drop these headers (widget.static.ts): client websites
 * load them cross-origin as scripts, where a document policy has no meaning.
 */
export const STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', STRICT_CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  next();
};

/** The policy of the demo page: its own scripts (by hash when inline), the Cal.com frames it embeds, our API. */
function demoPageCsp(html: string, calOrigin: string): string {
  const hashes = [...html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`,
  );
  return [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    // The demo page's own <style>; styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src ${calOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * Serves the demo page (`/`, `/index.html` from the widget directory) with a policy built
 * from its contents, so an inline script the page carries is allowed by its hash and
 * nothing else inline runs. Re-read when the file changes.
 */
export function demoPage(widgetDir: string, calOrigin: string): RequestHandler {
  const file = join(widgetDir, 'index.html');
  let cached: { mtimeMs: number; html: string; csp: string } | null = null;
  return async (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.path !== '/' && req.path !== '/index.html')) return next();
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(file)).mtimeMs;
    } catch {
      throw new NotFound();
    }
    if (!cached || cached.mtimeMs !== mtimeMs) {
      const html = await readFile(file, 'utf8');
      cached = { mtimeMs, html, csp: demoPageCsp(html, calOrigin) };
    }
    res.set({ 'Content-Security-Policy': cached.csp, 'Cache-Control': 'no-cache' }).type('html').send(cached.html);
  };
}

/**
 * `*.map` files are answered 404 unless source maps are switched on (they reveal the source).
 * The widget's scripts carry no `sourceMappingURL` comment (its bytes count before the visitor's
 * first interaction, issue 15; decision 0032): when maps are served, a `SourceMap` header names
 * each script's map instead, which browsers' developer tools follow the same way. `loader.js`
 * has no map.
 */
export function sourceMapGate(serve: boolean): RequestHandler {
  return (req, res, next) => {
    if (!serve && /\.map$/i.test(req.path)) throw new NotFound();
    const script = /\/([^/]+\.js)$/.exec(req.path)?.[1];
    if (serve && script && script !== 'loader.js') res.setHeader('SourceMap', `${script}.map`);
    next();
  };
}
