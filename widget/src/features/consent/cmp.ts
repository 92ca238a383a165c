import type { ConsentChoice } from '../../entities/session/session.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';

// Consent read from the page's own consent manager, so a site with a cookie banner does not
// ask twice: an IAB TCF v2.2 CMP (`consent="tcf"`) or Google Consent Mode (`consent="gcm"`).
// Only a positive, explicit signal counts; anything else leaves the widget's own consent step
// in place. The receipt records the source (`tcf`, `gcm`).

/**
 * Consent from the page's consent manager (`tcf`, `gcm`): the tenant's required purposes, nothing
 * optional. Here, not in consent.ts, so the lazy chunk and this one share no module (no third chunk).
 */
const cmpConsent = (config: TenantConfig, source: 'tcf' | 'gcm'): ConsentChoice => ({
  version: config.consent.version,
  purposes: config.consent.purposes.filter((p) => p.required).map((p) => p.id),
  source,
});

/** The TCF v2.2 `TCData` fields we read (IAB TCF v2.2 CMP API, `addEventListener`). */
interface TcData {
  eventStatus?: string;
  gdprApplies?: boolean;
  listenerId?: number;
  purpose?: { consents?: Record<string, boolean> };
}
type TcfApi = (command: string, version: number, cb: (d: TcData | boolean, ok: boolean) => void, param?: unknown) => void;

/**
 * TCF: consent counts once the CMP has a decision (`tcloaded` or `useractioncomplete`) and
 * either GDPR does not apply or the visitor consented to purpose 1 ("store and/or access
 * information on a device", which the booking frame and its cookies need).
 */
export const tcfGrants = (d: TcData): boolean =>
  (d.eventStatus === 'tcloaded' || d.eventStatus === 'useractioncomplete') && (d.gdprApplies === false || d.purpose?.consents?.['1'] === true);

/**
 * Google Consent Mode: the latest `gtag('consent', 'update', …)` in `dataLayer` grants
 * `functionality_storage` (storage that makes a booking work). A `default` alone does not
 * count: it is the site's assumption, not the visitor's choice.
 */
export function gcmGrants(dataLayer: unknown): boolean {
  let granted = false;
  if (!Array.isArray(dataLayer)) return false;
  for (const e of dataLayer) {
    // gtag() pushes its `arguments` object: ['consent', 'update', { functionality_storage: 'granted' }].
    const a = e as ArrayLike<unknown> | null;
    if (a && typeof a === 'object' && a[0] === 'consent' && a[1] === 'update') {
      const s = (a[2] as Record<string, unknown> | undefined)?.functionality_storage;
      if (s === 'granted' || s === 'denied') granted = s === 'granted';
    }
  }
  return granted;
}

/**
 * Watches the page's consent manager and calls `granted` once (when it says yes, now or
 * later). Returns a function that stops watching; nothing is left on the page after it.
 */
export function watchCmp(kind: string | undefined, config: TenantConfig, granted: (c: ConsentChoice) => void, win: Window = window): (() => void) | undefined {
  return kind === 'tcf' || kind === 'gcm' ? watch(kind, () => granted(cmpConsent(config, kind)), win) : undefined;
}

function watch(kind: 'tcf' | 'gcm', granted: () => void, win: Window): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    stop();
    granted();
  };
  let stop = () => {};
  const w = win as unknown as { __tcfapi?: TcfApi; dataLayer?: unknown[] };
  if (kind === 'tcf') {
    const api = w.__tcfapi;
    if (typeof api !== 'function') return stop;
    let id: number | undefined;
    api('addEventListener', 2, (d, ok) => {
      if (!ok || typeof d !== 'object') return;
      id = d.listenerId;
      if (tcfGrants(d)) once();
    });
    stop = () => {
      if (id !== undefined) api('removeEventListener', 2, () => {}, id);
      id = undefined;
    };
  } else {
    // gtag() only pushes to dataLayer: wrap its push to see updates, and unwrap on stop
    // (only if nobody wrapped it after us; then our wrapper just stops acting).
    const dl = (w.dataLayer ??= []);
    const push = dl.push;
    const ours = function (this: unknown[], ...items: unknown[]) {
      const r = push.apply(this, items);
      if (!done && gcmGrants(dl)) once();
      return r;
    };
    dl.push = ours;
    stop = () => {
      done = true;
      if (dl.push === ours) dl.push = push;
    };
    if (gcmGrants(dl)) once();
  }
  return () => {
    done = true;
    stop();
  };
}
