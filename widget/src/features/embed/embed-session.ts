import { WidgetError } from '../../shared/lib/widget-error.js';
import { embedConfig, type BookingLink } from './embed-config.js';
import { readEmbedMessage } from './embed-message.js';
import { frameOrigin, frameUrl } from './frame-url.js';
import { pageContext, urlPrefill } from '../../entities/session/session.js';
import { reportBooking, type ReportContext } from './report-booking.js';
import type { CalbridgeBookedDetail } from '../../shared/events/calbridge-booked.js';

let count = 0;

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
 * One Cal.com booking page in a frame: the parent side of Cal.com's embed protocol, our own
 * (no embed-core on the page). Cal.com's page (packages/embeds/embed-core/src/embed-iframe.ts)
 * posts `{ originator: "CAL", type, namespace, fullType: "CAL:<ns>:<type>", data }` to its
 * parent (sdk-action-manager.ts `fire`); the parent answers `__iframeReady` with the method
 * call `{ originator: "CAL", method: "parentKnowsIframeReady" }`, after which the page shows
 * itself and fires `linkReady` (embed-iframe.ts `methods.parentKnowsIframeReady`). As embed-core
 * does (embed.ts, the `Cal` constructor's handlers): `__iframeReady` makes the hidden frame
 * visible and is answered every time (a reload inside the frame fires it again),
 * `__dimensionChanged` sizes the box, `linkReady` / `linkFailed` end the wait.
 *
 * A message counts only if it comes from the frame's origin, from this frame's window, for
 * this namespace, and validates. Nothing is left on the page after `dispose()`: one listener,
 * one frame, one timer during `mount()`, all removed.
 */
export class EmbedSession {
  readonly namespace = `calbridge${++count}`;
  #frame: HTMLIFrameElement | null = null;
  #origin = '';
  /** The last booking this frame made: a reschedule that follows replaces it. */
  #lastUid: string | null = null;
  #ready?: (ok: WidgetError | null) => void;

  constructor(
    private readonly opts: EmbedOptions,
    private readonly on: EmbedCallbacks,
  ) {}

  /** Frames the booking page into `container` and resolves once it is ready (`linkReady`). */
  async mount(container: HTMLElement, signal: AbortSignal): Promise<void> {
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
    this.#origin = frameOrigin(calOrigin);
    const frame = (this.#frame = document.createElement('iframe'));
    // As embed-core's createIframe: its class and window name (Cal.com's page reads the
    // namespace from `window.name` when a navigation drops the query), hidden until the page
    // says it is ready. Styles through the CSSOM, which a strict CSP does not restrict.
    frame.className = 'cal-embed';
    frame.name = `cal-embed=${this.namespace}`;
    frame.title = frameTitle;
    // Out of flow over its box (positioned here, not in widget.js's styles): the loading text the
    // element shows in the box until the page is ready goes without moving the frame (decision 0028).
    frame.style.cssText = 'display:block;position:absolute;inset:0;border:0;width:100%;height:100%;min-height:300px;visibility:hidden';
    container.style.position = 'relative';
    frame.src = frameUrl({ calOrigin, calLink, namespace: this.namespace, config, colorScheme: getComputedStyle(container).colorScheme });
    window.addEventListener('message', this.#onMessage);
    container.append(frame);
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

  /** Removes our listener and the frame. */
  dispose(): void {
    window.removeEventListener('message', this.#onMessage);
    this.#frame?.remove();
    this.#frame = null;
  }

  #onMessage = (e: MessageEvent): void => {
    const frame = this.#frame;
    if (!frame || e.source !== frame.contentWindow || e.origin !== this.#origin) return;
    const m = readEmbedMessage(e.data);
    if (!m || m.namespace !== this.namespace) return;
    switch (m.type) {
      case '__iframeReady':
        frame.style.visibility = '';
        // Nothing else here: the page shows itself in a task of its own on (when same-site) this
        // thread, so work done now would come before it (decision 0036).
        frame.contentWindow?.postMessage({ originator: 'CAL', method: 'parentKnowsIframeReady' }, this.#origin);
        break;
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
        // embed-core sets the frame's height only when it is not 0 (`r.iframeHeight && …`).
        if (m.data.iframeHeight) this.on.resize(m.data.iframeHeight);
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
