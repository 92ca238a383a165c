import { readdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import type { RequestHandler } from 'express';

/** The encodings the builds write beside each script and stylesheet (scripts/vite-precompress.mjs), best first. */
const ENCODINGS = [
  ['br', '.br'],
  ['gzip', '.gz'],
] as const;
export type Encoding = (typeof ENCODINGS)[number][0];

/**
 * The encodings an `Accept-Encoding` header allows among ours, best first (RFC 9110 §12.5.3):
 * a coding named with `q=0` is refused, `*` stands for every coding not named, and no header
 * (or an empty one) allows none but the file as it is. Ties keep our order (brotli, then gzip).
 */
export function acceptedEncodings(header: string | undefined): Encoding[] {
  if (!header) return [];
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const weight = params.find((p) => p.startsWith('q='));
    const value = weight === undefined ? 1 : Number(weight.slice(2));
    // An unreadable weight counts as a refusal: in doubt, the file as it is.
    q.set(name, Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0);
  }
  const weightOf = (e: string): number => q.get(e) ?? q.get('*') ?? 0;
  return ENCODINGS.map(([e]) => e)
    .filter((e) => weightOf(e) > 0)
    .sort((a, b) => weightOf(b) - weightOf(a));
}

/** Every file under `dir` with compressed copies beside it, by URL path (`/chunks/x.js`), with the encodings it has. */
function scan(dir: string): Map<string, Set<Encoding>> {
  const found = new Map<string, Set<Encoding>>();
  let files: string[];
  try {
    files = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    // No build there (yet): every request goes on to the plain files, as before.
    return found;
  }
  const all = new Set(files);
  for (const file of files)
    for (const [encoding, suffix] of ENCODINGS)
      if (file.endsWith(suffix) && all.has(file.slice(0, -suffix.length))) {
        const url = `/${file.slice(0, -suffix.length).split(sep).join('/')}`;
        (found.get(url) ?? found.set(url, new Set()).get(url)!).add(encoding);
      }
  return found;
}

/**
 * Serves a built file's brotli or gzip copy (made beside it at build time) in place of the file
 * when the request accepts that encoding, with the file's own type and `setHeaders`; anything
 * else goes on to the static handler after it (which serves the file as it is). Every answer for
 * a file that has copies varies by `Accept-Encoding`, so a shared cache keeps them apart. The
 * copies are found once, when the handler is made: a build the server did not start with is
 * served uncompressed until it restarts, never wrongly.
 */
export function precompressed(dir: string, setHeaders: (res: ServerResponse, path: string) => void = () => undefined): RequestHandler {
  const variants = scan(dir);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const has = variants.get(req.path);
    if (!has) return next();
    res.vary('Accept-Encoding');
    const encoding = acceptedEncodings(req.get('accept-encoding')).find((e) => has.has(e));
    if (!encoding) return next();
    // Only paths found under `dir` are in the map, and `root` keeps the file there too.
    const path = req.path.slice(1);
    setHeaders(res, join(dir, path));
    res.type(extname(path));
    const suffix = ENCODINGS.find(([e]) => e === encoding)![1];
    res.sendFile(`${path}${suffix}`, { root: dir, headers: { 'Content-Encoding': encoding }, dotfiles: 'deny' }, (err?: Error) => {
      if (!err || res.headersSent) return;
      // The copy went away (a rebuild): the file as it is, from the static handler.
      res.removeHeader('Content-Encoding');
      res.removeHeader('Content-Type');
      next();
    });
  };
}
