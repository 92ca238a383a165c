// The queue stub Cal.com's official snippet creates. embed-core throws at import when
// `window.Cal` is missing or has no `q` array, so this module must run before it
// (embed-chunk.ts imports it first). Calls made before embed-core has run are queued
// and replayed by embed-core; later calls go straight through its patched `q.push`.

import type { CalGlobal } from './cal-global.js';

/** Installs the stub unless a `Cal` already exists (e.g. a stub or loader of the host page). */
function installCalStub(win: Window = window): CalGlobal {
  const w = win as unknown as { Cal?: CalGlobal };
  if (w.Cal) return w.Cal;
  const cal = function (...args: unknown[]) {
    if (args[0] === 'init' && typeof args[1] === 'string') {
      const ns = args[1];
      const api = (cal.ns[ns] ??= Object.assign((...a: unknown[]) => void api.q.push(a), { q: [] as unknown[] }));
      api.q.push(args);
      cal.q.push(['initNamespace', ns]);
      return;
    }
    cal.q.push(args);
  } as CalGlobal;
  cal.q = [];
  cal.ns = {};
  cal.loaded = true;
  return (w.Cal = cal);
}

installCalStub();
