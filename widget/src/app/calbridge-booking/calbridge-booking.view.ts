// What <calbridge-booking> shows after consent (the framed booking page, or native mode's
// picker) and how it loads: part of the element's lazy chunk, since nothing here runs before
// consent, which keeps widget.js within its budget.
import { html, nothing, type TemplateResult } from 'lit';
import type * as NativeChunk from '../../features/native/index.js';
import type { ConsentChoice, Session } from '../../entities/session/session.js';
import { bookingLink } from '../../entities/tenant-config/booking-link.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
// The embed feature's types come from its public face; its code from the module itself (this file is lazy).
import type { EmbedSession } from '../../features/embed/index.js';
import { EmbedSession as Embed } from '../../features/embed/embed-session.js';
import { emit } from '../../shared/events/emit.js';
import type { Strings } from '../../shared/i18n/strings.js';
import { css } from '../../shared/ui/css.js';
import { toWidgetError, WidgetError } from '../../shared/lib/widget-error.js';

/**
 * The box the booking page is framed into (added to the element's shadow root at consent,
 * before the box first renders; decision 0032). The loading text's margin would collapse
 * through .frame and move it (and its frame) when the text goes; without it nothing moves
 * (decision 0028).
 */
export const viewStyles = css`
  .frame {
    height: var(--h);
    margin: -1rem;
  }
  .frame > p {
    margin: 0;
    padding: 1rem;
  }
`;

/**
 * What an open element shows: `waiting` until it is near the viewport (inline) or its dialog
 * is open; `loading` the frame or the picker (started with the session request, not after its
 * answer); then the `framed` booking page (`booked` once it made a booking) or the `native` picker.
 */
export type View =
  | { status: 'waiting' }
  | { status: 'loading'; abort: AbortController }
  | { status: 'framed' | 'booked'; embed: EmbedSession }
  | { status: 'native'; chunk: typeof NativeChunk; token: string; event: string };

/** A view's next state, or why it failed; the host ignores news from a view it no longer shows. */
type Next = (from: View, to: View | WidgetError) => void;

/** What the view reads from its element: the attributes that prefill and theme the booking page. */
export interface ViewHost extends HTMLElement {
  readonly tenant: string;
  readonly mode: string;
  readonly event?: string | undefined;
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly theme?: string | undefined;
  readonly renderRoot: ParentNode;
}

/** What consent brought: the session being minted and the nonce the booking metadata carries. */
interface Consented {
  config: TenantConfig;
  consent: ConsentChoice;
  nonce: string;
  session: Promise<Session>;
  /** Lets the session request go: once the booking page has shown itself (`linkReady`), or the frame has failed. */
  send: () => void;
}

/**
 * After consent, what the element's panel shows (rendered by the element, so Lit's host is the
 * element): native mode's picker, or the box the frame goes into, with the `loading` text while it loads.
 */
export function viewTemplate(host: ViewHost, { view: v, consent }: { view: View; consent: ConsentChoice }, loadingText: string, server: string, locale: string): TemplateResult {
  const loading = html`<p>${loadingText}</p>`;
  switch (v.status) {
    case 'native':
      return v.chunk.nativeView(host, server, v.token, v.event, locale, consent);
    case 'waiting':
    case 'loading':
    case 'framed':
    case 'booked':
      // The frame is appended to the box: the empty comment ends Lit's part before it,
      // so clearing the loading text never takes the frame with it.
      return host.mode === 'native' ? loading : html`<div class="frame" part="frame">${v.status === 'loading' ? loading : nothing}<!----></div>`;
  }
}

/**
 * The error view's link to the booking page on Cal.com itself, for a failure after consent. In
 * this chunk (decision 0038): a failure with no chunk (it did not load) shows the element's
 * fallback slot instead, as one with no config does.
 */
export const fallbackLink = (host: ViewHost, c: TenantConfig, text: string): TemplateResult =>
  html`<a href=${`${c.calOrigin}/${bookingLink(c, host.event)}`} target="_blank" rel="noopener">${text}</a>`;

/** What the element's polite live region says for an open view: loading, then the confirmed booking. */
export const announce = (v: View, t: Strings): string => (v.status === 'booked' ? t.booked : v.status === 'loading' ? t.loading : '');

/** Native mode's picker chunk (loaded when the visitor comes near a native element, or on consent). */
export const loadNative = (): Promise<typeof NativeChunk> =>
  import('../../features/native/index.js').catch((e: unknown) => {
    throw new WidgetError('embed_load_failed', 0, { cause: e });
  });

/** Stops what a view runs: its load (which takes its half-made frame down) or its frame. */
export function takeDown(v: View): void {
  if (v.status === 'loading') v.abort.abort();
  if ('embed' in v) v.embed.dispose();
}

/**
 * Loads the view for `loading` (set, with the `.frame` box the waiting view rendered already there):
 * in native mode the picker's chunk, once the tenant offers native mode and the session may
 * book; otherwise the booking page, framed into the box (inline, the box keeps its reserved
 * height and the page scrolls inside the frame; in a dialog the box follows the page's height).
 * A booking made in the frame is announced (`booked`) and reported as `calbridge-booked`.
 */
export async function loadView(host: ViewHost, s: Consented, loading: View & { status: 'loading' }, server: string, frameTitle: string, timeout: number, next: Next): Promise<void> {
  const { config } = s;
  const event = host.event || config.defaultEvent;
  try {
    if (host.mode === 'native') {
      const [chunk, session] = await Promise.all([loadNative(), s.session]);
      const native = chunk.nativeEvent(config, session, event);
      // The picker's first page: from the session's answer when it carries it, else asked for now, before the picker renders.
      chunk.prefetchSlots(server, config.tenant, session.token, native, session.slots);
      return next(loading, { status: 'native', chunk, token: session.token, event: native });
    }
    const box = host.renderRoot.querySelector<HTMLElement>('.frame');
    const dialog = host.mode === 'popup' || host.mode === 'floating';
    if (!box) throw new WidgetError('embed_load_failed');
    let shown: View = loading;
    const show = (v: View) => {
      next(shown, v);
      shown = v;
    };
    const embed = new Embed(
      {
        calOrigin: config.calOrigin,
        calLink: bookingLink(config, event),
        frameTitle,
        timeout,
        link: { tenant: config.tenant, nonce: s.nonce },
        name: host.name,
        email: host.email,
        theme: host.theme || config.theme,
        report: { server, tenant: config.tenant, session: () => s.session, consent: s.consent, eventType: event ?? null },
      },
      {
        // Inline, the box keeps the height it had from the first paint (decision 0028): content
        // after the element never moves, and a taller booking page scrolls inside its frame, as
        // Cal.com's own page does in embed-core's modal (ui-utils.ts getMaxHeightForModal). In a
        // dialog (top layer, nothing after it) the box follows the page and the dialog scrolls.
        resize: (h) => dialog && (box.style.height = `${h}px`),
        booked: (detail, error) => {
          show({ status: 'booked', embed });
          if (error) emit(host, 'calbridge-error', { code: error.code, status: error.status });
          emit(host, 'calbridge-booked', detail);
        },
        failed: (e) => next(shown, e),
      },
    );
    await embed.mount(box, loading.abort.signal);
    show({ status: 'framed', embed });
  } catch (e) {
    next(loading, toWidgetError(e, 'server_error'));
  } finally {
    afterPaint(s.send);
  }
}

/**
 * Runs `f` once the frame that shows the view's new state has been painted (a task after the next
 * animation frame), or after 100 ms where no frame comes (a hidden tab). The session request
 * waits for it: the booking page's first visible frame no longer shares the CPU with the
 * request's work, whose answer nothing needs before the visitor books (decision 0036's later addition).
 */
function afterPaint(f: () => void): void {
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    clearTimeout(late);
    f();
  };
  const late = setTimeout(go, 100);
  requestAnimationFrame(() => setTimeout(go, 0));
}
