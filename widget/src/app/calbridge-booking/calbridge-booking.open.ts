// In the element's lazy chunk: what consent does to the element's state, and the post-consent
// view's steps. They were methods of the element (`#consent`, `#loadView`, `#next`); they run
// only once the visitor has consented, so `widget.js` no longer carries them and the classic
// `loader.js` form fits the 10 KiB first-interaction budget (issue 15, decision 0032). The
// state machine is still the element's one union (`Open` below is its `open` member); these
// steps reach it only through the element's `Hooks`.
import type { ReactiveControllerHost } from 'lit';
import { createSession, makeNonce, pageContext, type ConsentChoice, type Session } from '../../entities/session/session.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import { frameOrigin } from '../../features/embed/frame-url.js';
import { firstPageQuery } from '../../features/native/first-page.js';
import { emit } from '../../shared/events/emit.js';
import { preconnect } from '../../shared/lib/preconnect.js';
import { adopt } from '../../shared/ui/adopt.js';
import { ViewportController } from '../../shared/ui/viewport-controller.js';
import { WidgetError } from '../../shared/lib/widget-error.js';
import { loadView, takeDown, viewStyles, type View, type ViewHost } from './calbridge-booking.view.js';

/** The element's `open` state: consent given, its session minted while its `view` loads. `L` is the lazy chunk's module. */
export type Open<L> = { status: 'open'; config: TenantConfig; lazy: L; consent: ConsentChoice; nonce: string; session: Promise<Session>; send: () => void; view: View };

/**
 * The element as these steps see it. Short keys on purpose: object keys survive minification,
 * and this object is built in `widget.js` (decision 0032).
 */
export interface Hooks<L> {
  /** The element (its attributes, shadow root and events). */
  el: ViewHost & ReactiveControllerHost;
  /** The element's state now; news for a state no longer shown is dropped (state identity). */
  get: () => Open<L> | { status: 'loading' | 'consenting' | 'failed' };
  /** Shows `s`: rendered in this task when `now` (the consent click's own task), else at the next update. */
  set: (s: Open<L>, now?: boolean) => void;
  /** Shows why it failed (`calbridge-error`); `retry` goes back to the step that failed. */
  fail: (e: unknown, retry: () => void, config: TenantConfig) => void;
  /** The Calbridge server's origin. */
  srv: () => string;
  /** Aborted when the tenant or server changes. */
  sig: () => AbortSignal;
  /** Inline and native: whether the element has come near the viewport, watched from the first consent on (made here, kept by the element). */
  vp?: ViewportController;
}

/**
 * On consent, in the consent click's own task: a preconnect to the Cal.com origin and the view
 * (rendered at once, so the element's `updated` frames the booking page before the click's
 * handler returns, as Cal.com's snippet does), whose booking metadata carries the nonce made
 * here. The session request carrying the same nonce follows once the frame's document has
 * loaded (the view calls `send`; at once when no frame started now; see `beginSession`). A
 * retry keeps the nonce.
 */
export function openWith<L>(h: Hooks<L>, lazy: L, config: TenantConfig, consent: ConsentChoice, nonce = makeNonce()): void {
  const signal = h.sig();
  // Consent given in the element was a click on it: it is in view, and the frame starts in that click's task.
  if (!dialogMode(h.el)) (h.vp ??= new ViewportController(h.el)).near ||= consent.source === 'widget';
  // The frame box's rules, before the box first renders (below, in this task).
  adopt(h.el, viewStyles);
  const [session, send] = beginSession(h.srv(), config, consent, nonce, h.el.mode, signal, h.el.event || config.defaultEvent);
  h.set({ status: 'open', config, lazy, consent, nonce, session, send, view: { status: 'waiting' } }, true);
  // No frame started in this click (inline far from view, dialog not open): nothing to wait for.
  // (A view that failed at once has no `view` here; its load sends the request itself.)
  if ((h.get() as Partial<Open<L>>).view?.status === 'waiting') send();
  session.then(
    // Recorded by the server: the page hears it even if the view failed meanwhile.
    (r) => signal.aborted || emit(h.el, 'calbridge-consent', { ...consent, consentReceiptId: r.consentReceiptId }),
    (e: unknown) => {
      const s = h.get();
      if (s.status !== 'open' || s.session !== session) return;
      // The view started with the session; without a session it cannot be linked: take it down.
      takeDown(s.view);
      h.fail(e, () => openWith(h, lazy, config, consent, nonce), config);
    },
  );
}

/**
 * The view starts loading once shown (the element's `updated`, so the `.frame` box the waiting
 * view rendered is there already): the frame is made in the same task as the consent click
 * (as Cal.com's snippet makes its frame in its click handler), not one more render later; the
 * loading text follows it in. The view reports back through `next`. It starts only from
 * `waiting`, once the element is near the viewport (inline, native: `h.vp`) or its dialog
 * `opened` (popup, floating); otherwise nothing happens.
 */
export function showView<L>(h: Hooks<L>, s: Open<L>, opened: boolean | undefined, frameTitle: string, timeout: number): void {
  if (s.view.status !== 'waiting' || !(dialogMode(h.el) ? opened : h.vp?.near)) return;
  // The dialog's fade-in ends now if it is still running (a consent click within its 0.2 s, or
  // consent already given): animating a dialog while the booking page loads in it made the browser
  // composite every frame of the fade, CPU the page's own process needed (decision 0043).
  if (dialogMode(h.el)) for (const a of h.el.renderRoot.querySelector('dialog')?.getAnimations() ?? []) a.finish();
  const view = { status: 'loading', abort: new AbortController() } as const;
  h.set({ ...s, view });
  void loadView(h.el, s, view, h.srv(), frameTitle, timeout, (from, to) => next(h, from, to));
}

const dialogMode = (el: ViewHost): boolean => el.mode === 'popup' || el.mode === 'floating';

/** View `from` moves on to `to`, or fails (retry shows it again); news from a view no longer shown is dropped. */
function next<L>(h: Hooks<L>, from: View, to: View | WidgetError): void {
  const s = h.get();
  if (s.status !== 'open' || s.view !== from) return;
  if (!(to instanceof WidgetError)) return h.set({ ...s, view: to });
  takeDown(from);
  h.fail(to, () => h.set({ ...s, view: { status: 'waiting' } }), s.config);
}

/**
 * The consent click's network work: for framed modes a preconnect to the origin the frame loads
 * from, at once; the session request (with the nonce the frame's metadata also carries) when
 * `send` is called (native mode: in this call, before the element renders). The element makes
 * the frame in the click's own task and sends the session request once the booking page has
 * shown itself (its `linkReady`), the frame has failed or gone, no frame is being made, or the
 * page is going away: until then the frame's request, its page's load and its showing itself
 * have the network, the main thread and (on one machine) the CPU to themselves (decisions 0028,
 * 0036). Native mode's session
 * request names the picker's first page of free times, which the server answers with the
 * session (decision 0027): one round trip to the first times, not two.
 */
function beginSession(
  server: string,
  config: TenantConfig,
  consent: ConsentChoice,
  nonce: string,
  mode: string,
  signal: AbortSignal,
  event?: string,
): [session: Promise<Session>, send: () => void] {
  if (mode !== 'native') preconnect(frameOrigin(config.calOrigin));
  // The page as it was when the visitor consented.
  const context = pageContext(location, document.referrer);
  const slots = mode === 'native' && event ? { slots: firstPageQuery(event) } : {};
  const mint = () => createSession(server, config.tenant, { nonce, consent, context, ...slots }, signal);
  // Native mode has no frame to wait for: the request leaves now, in the consent's own task,
  // before the element renders (not in a microtask after it: decision 0027, later addition).
  if (mode === 'native') return [mint(), () => undefined];
  let send!: () => void;
  const gate = new Promise<void>((r) => (send = r));
  // A page going away before then still records the consent it took (the request is keepalive).
  addEventListener('pagehide', send, { once: true });
  const session = gate.then(() => {
    removeEventListener('pagehide', send);
    return mint();
  });
  return [session, send];
}

/** The element left the page: its view is taken down (the frame goes with it); the session stays, for when it is added again. */
export const pause = <L>(s: Open<L>): Open<L> => (takeDown(s.view), { ...s, view: { status: 'waiting' } });
