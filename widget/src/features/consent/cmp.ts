// Consent read from the page's own consent manager, so a site with a cookie banner does not
// ask twice: an IAB TCF v2.2 CMP (`consent="tcf"`) or Google Consent Mode (`consent="gcm"`).
// Only a positive, explicit signal counts; anything else leaves the widget's own consent step
// in place. The receipt records the source (`tcf`, `gcm`; `cmpConsent` in consent.ts).
//
// In widget.js, not a chunk of its own (decision 0038): a page with a consent manager fetches
// nothing more than any other before the visitor's first interaction (issue 15), and a visitor
// who already agreed there gets the element's chunk straight away, one round trip sooner.
// Written small for that budget: the grant is only noticed here; what it grants is built in the
// lazy chunk.

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
  (d.eventStatus === 'tcloaded' || d.eventStatus === 'useractioncomplete') && (d.gdprApplies === false || d.purpose?.consents?.[1] === true);

/**
 * Google Consent Mode: the latest `gtag('consent', 'update', …)` in `dataLayer` grants
 * `functionality_storage` (storage that makes a booking work). A `default` alone does not
 * count: it is the site's assumption, not the visitor's choice.
 */
export function gcmGrants(dataLayer: unknown): boolean {
  let granted = false;
  // gtag() pushes its `arguments` object: ['consent', 'update', { functionality_storage: 'granted' }].
  if (Array.isArray(dataLayer))
    for (const a of dataLayer as Array<ArrayLike<unknown> | null | undefined>) {
      const s = a?.[0] === 'consent' && a[1] === 'update' && (a[2] as { functionality_storage?: unknown } | undefined)?.functionality_storage;
      if (s === 'granted' || s === 'denied') granted = s === 'granted';
    }
  return granted;
}

/**
 * Watches the page's consent manager (`kind` `tcf` or `gcm`; anything else watches nothing)
 * and calls `granted` once, when it says yes (now or later). Returns a function that stops
 * watching; nothing of ours is left on the page after it.
 */
export function watchCmp(kind: string, granted: () => void, win: Window = window): () => undefined {
  const w = win as unknown as { __tcfapi?: TcfApi; dataLayer?: unknown[] };
  let done = false;
  let off = (): unknown => 0;
  // `end()` stops watching; `end(true)` stops and hands over the grant, once.
  const end = (grant?: boolean): undefined => {
    if (done) return;
    done = true;
    off();
    if (grant) granted();
  };
  if (kind === 'tcf') {
    let id: number | undefined;
    // The page's __tcfapi at the time: a CMP's stub is replaced by the CMP itself once it loads.
    off = () => id !== undefined && w.__tcfapi?.('removeEventListener', 2, () => {}, id);
    w.__tcfapi?.('addEventListener', 2, (d, ok) => {
      if (!ok || typeof d !== 'object') return;
      id = d.listenerId;
      // A listener the CMP confirms after we stopped is taken off at once.
      if (done) off();
      else if (tcfGrants(d)) end(true);
    });
  } else if (kind === 'gcm') {
    // gtag() only pushes to dataLayer: wrap its push to see updates, and unwrap when we stop
    // (only if nobody wrapped it after us; then our wrapper just stops acting).
    const dl = (w.dataLayer ??= []);
    const push = dl.push;
    const ours = function (this: unknown[], ...items: unknown[]) {
      const r = push.apply(this, items);
      if (!done && gcmGrants(dl)) end(true);
      return r;
    };
    dl.push = ours;
    off = () => dl.push === ours && (dl.push = push);
    if (gcmGrants(dl)) end(true);
  }
  return end;
}
