import { WidgetError } from '../../shared/lib/widget-error.js';
import type { CalGlobal } from './cal-global.js';
import { embedConfig, type BookingLink } from './embed-config.js';
import { readEmbedMessage } from './embed-message.js';
import { pageContext, urlPrefill } from '../../entities/session/session.js';
import { loadCal } from './load-cal.js';
import { reportBooking, type ReportContext } from './report-booking.js';
import type { CalbridgeBookedDetail } from '../../shared/events/calbridge-booked.js';

let count = 0;
/**
 * Namespaces no embed uses any more. embed-core keeps a namespace's instance and its five
 * page-wide `CAL:<ns>:…` listeners for good once initialised (it has no teardown), so a new
 * embed reuses a free namespace: elements added and removed any number of times leave as many
 * namespaces (and listeners) as were ever on the page at once.
 */
const free: string[] = [];

/**
 * The origin embed-core actually frames for `calOrigin`: it rewrites `https://cal.com` to
 * `https://app.cal.com` (packages/embeds/embed-core/src/embed.ts, `createIframe`:
 * `calOrigin.replace("https://cal.com", "https://app.cal.com")`), so messages from the frame
 * come from there. Mirrors that rewrite exactly, then keeps the origin.
 */
export const frameOrigin = (calOrigin: string): string => new URL(calOrigin.replace('https://cal.com', 'https://app.cal.com')).origin;

/** What the element learns from the frame, after origin, source and shape checks. */
export interface EmbedCallbacks {
  resize(height: number): void;
  /** A booking was made and reported to the server (`error` when the report failed). */
  booked(detail: CalbridgeBookedDetail, error?: WidgetError): void;
  failed(error: WidgetError): void;
}

export interface EmbedOptions {
  calOrigin: string;
  calLink: string;
  /** What links the booking back to us (metadata); UTM parameters and click ids are read from the page. */
  link: Omit<BookingLink, 'utm' | 'clickIds'>;
  name?: string | undefined;
  email?: string | undefined;
  theme?: string | undefined;
  /** Where and how to report a booking to the server (the nonce is the link's). */
  report: Omit<ReportContext, 'nonce'>;
  frameTitle: string;
  /** Milliseconds to wait for the booking page to say it is ready. */
  timeout: number;
}

/**
 * One Cal.com inline embed in its own namespace. Frame messages are taken from our own
 * `message` listener, never from embed-core's callbacks (embed-core checks no origin):
 * a message counts only if it comes from `calOrigin`, from this embed's iframe window,
 * for this namespace, and validates.
 */
export class EmbedSession {
  readonly namespace = free.pop() ?? `calbridge${++count}`;
  #released = false;
  #frame: HTMLIFrameElement | null = null;
  #origin = '';
  /** The last booking this frame made: a reschedule that follows replaces it. */
  #lastUid: string | null = null;
  #ready?: (ok: WidgetError | null) => void;

  constructor(
    private readonly opts: EmbedOptions,
    private readonly on: EmbedCallbacks,
  ) {}

  /** Loads embed-core, frames the booking page into `container` and resolves once it is ready. */
  async mount(container: HTMLElement, signal: AbortSignal): Promise<void> {
    const Cal: CalGlobal = await loadCal();
    signal.throwIfAborted();
    const { calOrigin, calLink, frameTitle, timeout } = this.opts;
    const { utm, clickIds } = pageContext(location, '');
    // Prefill: the element's attributes first, then the page URL's `?name=` / `?email=`.
    const url = urlPrefill(location);
    const config = embedConfig({
      ...this.opts,
      name: this.opts.name || url.name,
      email: this.opts.email || url.email,
      link: { ...this.opts.link, utm, clickIds },
    });
    window.addEventListener('message', this.#onMessage);
    Cal('init', this.namespace, { origin: calOrigin });
    Cal.ns[this.namespace]!('inline', { elementOrSelector: container, calLink, config });
    this.#frame = container.querySelector('iframe');
    this.#origin = frameOrigin(calOrigin);
    // The frame must be where we expect messages from; anything else is a loader we do not know.
    if (!this.#frame || new URL(this.#frame.src).origin !== this.#origin) throw new WidgetError('embed_load_failed');
    this.#frame.title = frameTitle;
    const failure = await new Promise<WidgetError | null>((resolve) => {
      const t = setTimeout(() => resolve(new WidgetError('frame_timeout')), timeout);
      const abort = () => resolve(new WidgetError('frame_failed'));
      signal.addEventListener('abort', abort, { once: true });
      this.#ready = (r) => {
        clearTimeout(t);
        signal.removeEventListener('abort', abort);
        resolve(r);
      };
    });
    this.#ready = undefined;
    if (failure) {
      this.dispose();
      throw failure;
    }
  }

  /** Removes our listener and the frame. embed-core's own page-wide listeners cannot be removed. */
  dispose(): void {
    window.removeEventListener('message', this.#onMessage);
    this.#frame?.closest('cal-inline')?.remove();
    this.#frame = null;
    if (!this.#released) free.push(this.namespace);
    this.#released = true;
  }

  #onMessage = (e: MessageEvent): void => {
    if (e.origin !== this.#origin || !this.#frame || e.source !== this.#frame.contentWindow) return;
    const m = readEmbedMessage(e.data);
    if (!m || m.namespace !== this.namespace) return;
    switch (m.type) {
      case 'linkReady':
        this.#ready?.(null);
        break;
      case 'linkFailed': {
        const err = new WidgetError('frame_failed');
        if (this.#ready) this.#ready(err);
        else this.on.failed(err);
        break;
      }
      case '__dimensionChanged':
        this.on.resize(m.data.iframeHeight);
        break;
      case 'bookingSuccessfulV2':
      case 'rescheduleBookingSuccessfulV2': {
        const from = m.type === 'rescheduleBookingSuccessfulV2' ? this.#lastUid : undefined;
        this.#lastUid = m.data.uid;
        void reportBooking({ ...this.opts.report, nonce: this.opts.link.nonce }, m.data, from).then((r) => this.on.booked(r.detail, r.error));
      }
    }
  };
}
