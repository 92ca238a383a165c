import { LitElement, html, nothing, type TemplateResult } from 'lit';
import type * as LazyChunk from './calbridge-booking.lazy.js';
import type * as NativeChunk from '../../features/native/index.js';
import type { ConsentDetails } from '../../features/consent/consent.js';
import type { EmbedSession } from '../../features/embed/index.js';
import type { Session } from '../../entities/session/session.js';
import { bookingLink } from '../../entities/tenant-config/booking-link.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import type { ConsentChoice } from '../../entities/session/session.js';
import { requestJson, widgetUrl } from '../../shared/api/request.js';
import { emit } from '../../shared/events/emit.js';
import { en, loadStrings, type Strings } from '../../shared/i18n/strings.js';
import { AsyncState } from '../../shared/lib/async-state.js';
import { toWidgetError, WidgetError } from '../../shared/lib/widget-error.js';
import { deepActiveElement, focusables } from '../../shared/ui/focus.js';
import { styles } from './calbridge-booking.styles.js';

export type { ConsentDetails };

type Lazy = typeof LazyChunk;
type Native = typeof NativeChunk;
/** Native mode's chunk (slot picker and form), fetched only after consent in native mode. */
const loadNative = (): Promise<Native> =>
  import('../../features/native/index.js').catch((e: unknown) => {
    throw new WidgetError('embed_load_failed', 0, { cause: e });
  });
let lazy: Promise<Lazy> | undefined;
/**
 * The embed and native chunks' file names, written into widget.js by the build
 * (vite.config.ts), so the element can `modulepreload` them once the visitor comes near.
 */
const CHUNKS = { embed: '__CALBRIDGE_CHUNK_EMBED__', native: '__CALBRIDGE_CHUNK_NATIVE__' };
/** Chunks already preloaded on this page: one `<link>` each, however many elements come and go. */
const preloaded = new Set<string>();

/** Loads (once) the element's lazy chunk; a failed load is retried on the next call. */
const loadLazy = (): Promise<Lazy> =>
  (lazy ??= import('./calbridge-booking.lazy.js').catch((e: unknown) => {
    lazy = undefined;
    throw new WidgetError('embed_load_failed', 0, { cause: e });
  }));

/** Presentation modes: the Cal.com page `inline`, in a `popup` or from a `floating` launcher, or `native` (our own slot picker). */
export type CalbridgeMode = 'inline' | 'popup' | 'floating' | 'native';
export type CalbridgeTheme = 'light' | 'dark' | 'auto';

/**
 * Consent-first, accessible Cal.com booking for any website.
 *
 * Nothing reaches Cal.com before the visitor consents: the element first shows the tenant's
 * consent form, then mints a short-lived session with the Calbridge server and only then loads
 * the Cal.com embed (lazily, in its own namespace). Frame messages are accepted only from the
 * tenant's Cal.com origin and only when they validate.
 *
 * @tagname calbridge-booking
 * @summary Book a Cal.com event inline, in a popup dialog, from a floating launcher, or natively with our own accessible slot picker.
 *
 * In `native` mode (tenants with a Cal.com connection) no Cal.com frame loads at all: after
 * consent the element shows a day grid (arrow keys, Home/End, PageUp/PageDown), the free times
 * as buttons in a time zone the visitor can change, and a booking form; it books through the
 * Calbridge server with an idempotency key, so a double click makes one booking.
 *
 * @fires calbridge-ready - The tenant config loaded; the element is interactive. Detail `{ tenant, mode }`.
 * @fires calbridge-consent - Consent was recorded by the server. Detail `{ version, purposes, consentReceiptId }`.
 * @fires calbridge-open - The booking dialog opened (popup, floating).
 * @fires calbridge-close - The booking dialog closed; focus went back to the trigger.
 * @fires calbridge-booked - A booking was made (in the frame, or natively). Detail `{ uid, startTime, endTime, eventType }`.
 * @fires calbridge-error - Something failed; the element shows a retry. Detail `{ code, status }`.
 *
 * @slot - Fallback shown when the server cannot be reached (put a plain link to your booking page here; it also shows before the script loads).
 *
 * @csspart base - The wrapper around everything.
 * @csspart trigger - The button that opens the dialog (popup, floating).
 * @csspart dialog - The native `<dialog>`.
 * @csspart close-button - The dialog's close button.
 * @csspart consent - The consent form.
 * @csspart button - Primary buttons (consent, retry).
 * @csspart frame - The box that holds the Cal.com frame.
 * @csspart native - The native slot picker and form (`native` mode).
 * @csspart error - The error message with retry and fallback link.
 *
 * @cssproperty --calbridge-accent - Accent colour of buttons, links and focus rings.
 * @cssproperty --calbridge-on-accent - Text colour on the accent.
 * @cssproperty --calbridge-background - Background of the inline box and the dialog.
 * @cssproperty --calbridge-color - Text colour.
 * @cssproperty --calbridge-radius - Corner radius.
 * @cssproperty --calbridge-inline-height - Height reserved for the inline booking page before it reports its size (default 700px).
 */
export class CalbridgeBooking extends LitElement {
  static override styles = styles;

  static override properties = {
    tenant: { reflect: true },
    event: {},
    mode: { reflect: true },
    server: {},
    theme: { reflect: true },
    locale: {},
    name: {},
    email: {},
    consent: {},
  };

  /** Milliseconds to wait for the framed booking page to report ready before showing an error. */
  static frameTimeout = 20_000;

  /** Tenant slug (required). */
  declare tenant: string;
  /** Event type slug; defaults to the tenant's default event. */
  declare event: string | undefined;
  /** `inline` (default), `popup`, `floating` or `native`. */
  declare mode: CalbridgeMode;
  /** Calbridge server origin; defaults to the origin `widget.js` was loaded from. */
  declare server: string | undefined;
  /** `light`, `dark` or `auto`; defaults to the tenant's theme. */
  declare theme: CalbridgeTheme | undefined;
  /** BCP 47 locale of the element's strings; defaults to the nearest `lang`, then the browser's. */
  declare locale: string | undefined;
  /** Prefills the attendee name. */
  declare name: string | undefined;
  /** Prefills the attendee email. */
  declare email: string | undefined;
  /**
   * Reads consent from the page's consent manager as well as offering the consent step:
   * `tcf` (an IAB TCF v2.2 CMP, `__tcfapi`: purpose 1) or `gcm` (Google Consent Mode:
   * `functionality_storage` granted by an update). The receipt records the source.
   */
  declare consent: 'tcf' | 'gcm' | undefined;

  // Internal state; each change is followed by requestUpdate().
  #near = false;
  #opened = false;
  #height?: number;
  #booked = false;

  #nonce?: string;
  #sessionP?: Promise<Session>;
  #stopCmp?: () => void;
  #warmed?: () => void;

  #fail = (e: unknown): void => {
    const err = toWidgetError(e, 'server_error');
    emit(this, 'calbridge-error', { code: err.code, status: err.status });
  };

  #strings = new AsyncState<Strings>(this);
  #lazy?: Lazy;
  #config = new AsyncState<TenantConfig>(this, {
    complete: (config) => {
      void this.updateComplete.then(() => emit(this, 'calbridge-ready', { tenant: config.tenant, mode: this.mode }));
      if (this.#pendingConsent) this.grantConsent(this.#pendingConsent);
      this.#watchCmp();
    },
    error: this.#fail,
  });
  #session = new AsyncState<Session>(this, {
    complete: (s) => emit(this, 'calbridge-consent', { ...this.#consent!, consentReceiptId: s.consentReceiptId }),
    error: (e) => {
      // The frame started with the session; without a session it cannot be linked: take it down.
      this.#embed?.dispose();
      this.#frame.reset();
      this.#fail(e);
    },
  });
  #frame = new AsyncState<string>(this, { error: this.#fail });

  #keys = ['', ''];
  #consent?: ConsentChoice;
  #pendingConsent?: ConsentDetails;
  #embed?: EmbedSession;
  #nativeChunk?: Native;
  #io?: IntersectionObserver;
  #returnTo: HTMLElement | null = null;

  constructor() {
    super();
    this.mode = 'inline';
    // The first pointer or focus on the element warms up what a click will need: listeners on
    // the element itself, so nothing is added to the page.
    // (`pointerover` fires for touch too, before the tap's click.)
    this.addEventListener('pointerover', this.#warm);
    this.addEventListener('focusin', this.#warm);
  }

  get #dialogMode(): boolean {
    return this.mode === 'popup' || this.mode === 'floating';
  }

  /** Loads our own chunks (never anything from Cal.com) once the visitor comes near the element. */
  #warm = (): void => {
    this.#warmed?.();
    const chunk = this.mode === 'native' ? CHUNKS.native : CHUNKS.embed;
    // Unbuilt sources (tests) have no chunk names: nothing to preload.
    if (chunk[0] === '_' || preloaded.has(chunk)) return;
    preloaded.add(chunk);
    document.head.append(Object.assign(document.createElement('link'), { rel: 'modulepreload', href: new URL(chunk, import.meta.url).href }));
  };

  get #server(): string {
    return this.server || new URL(import.meta.url).origin;
  }

  get #t(): Strings {
    return this.#strings.value ?? en;
  }

  get #event(): string | undefined {
    return this.event || this.#config.value?.defaultEvent;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Inline: load the frame only once the element is near the viewport.
    this.#io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          this.#near = true;
          this.#io?.disconnect();
          this.requestUpdate();
        }
      },
      { rootMargin: '200px' },
    );
    this.#io.observe(this);
    // Re-added after removal (single-page apps): watch the page's consent manager again.
    if (this.#config.complete) this.#watchCmp();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#io?.disconnect();
    this.#stopCmp?.();
    this.#embed?.dispose();
    this.#near = this.#opened = false;
    this.#frame.reset();
  }

  protected override willUpdate(): void {
    const locale = this.locale || this.closest<HTMLElement>('[lang]')?.lang || navigator.language;
    if (locale !== this.#keys[0]) void this.#strings.run(() => loadStrings((this.#keys[0] = locale)));
    if (this.tenant + this.#server !== this.#keys[1]) {
      this.#keys[1] = this.tenant + this.#server;
      this.#loadConfig();
    }
  }

  protected override updated(): void {
    // The frame loads once there is a session and the element is near the viewport (inline) or open.
    // The frame starts with the session request (consent click), not after its answer.
    const s = this.#session.status;
    if ((s === 1 || s === 2) && !this.#frame.status && (this.#dialogMode ? this.#opened : this.#near)) this.#loadFrame();
  }

  /** Opens the booking dialog (popup and floating modes) and moves focus into it. */
  async open(): Promise<void> {
    await this.updateComplete;
    const dialog = this.#dialog;
    if (!dialog || dialog.open) return;
    this.#warm();
    this.#returnTo = deepActiveElement();
    this.#opened = true;
    dialog.showModal();
    this.requestUpdate();
    await this.updateComplete;
    dialog.querySelector<HTMLElement>('.close')?.focus();
    emit(this, 'calbridge-open', {});
  }

  /** Closes the booking dialog; focus returns to where it was before `open()`. */
  close(): void {
    this.#dialog?.close();
  }

  /**
   * Records consent the host page's own consent manager already collected, skipping the
   * consent form. Purposes must include every required purpose of the tenant; `version`,
   * when given, must match the tenant's consent text version. Fires `calbridge-error`
   * with `consent_invalid` otherwise.
   */
  grantConsent(details: ConsentDetails): void {
    if (!this.#config.complete) {
      this.#pendingConsent = details;
      return;
    }
    this.#pendingConsent = undefined;
    if (this.#session.pending || this.#session.complete) return;
    try {
      this.#startSession(this.#lazy!.checkConsent(this.#config.value!, details, 'api'));
    } catch (e) {
      this.#fail(e);
    }
  }

  get #dialog(): HTMLDialogElement | null {
    return this.renderRoot.querySelector('dialog');
  }

  #loadConfig(): void {
    void this.#config.run(async (signal) => {
      if (!this.tenant) throw new WidgetError('missing_tenant');
      // The config is fetched here and checked by the lazy chunk, which loads meanwhile.
      // Popup and floating show only a button until used: their chunk waits for the first
      // pointer or focus on the element (or open()); inline and native need it for the consent step.
      const code = this.#dialogMode ? new Promise<void>((r) => (this.#warmed = r)).then(loadLazy) : loadLazy();
      const [raw, lazy] = await Promise.all([requestJson(widgetUrl(this.#server, this.tenant, 'config'), {}, signal), code]);
      this.#lazy = lazy;
      return lazy.checkTenantConfig(raw, this.mode);
    });
  }

  /** Consent from the page's consent manager (`consent="tcf"`/`"gcm"`), watched until given or disconnected. */
  #watchCmp(): void {
    if (!this.#session.status) this.#stopCmp = this.#lazy!.watchCmp(this.consent, this.#config.value!, (c) => this.#startSession(c));
  }

  /**
   * On consent, three things start together: the session request (carrying a nonce made
   * here), a preconnect to the Cal.com origin, and (through `updated`) the frame, whose
   * booking metadata carries the same nonce from the start.
   */
  #startSession(consent: ConsentChoice = this.#consent!): void {
    this.#consent = consent;
    this.#stopCmp?.();
    const nonce = (this.#nonce ??= this.#lazy!.makeNonce());
    void this.#session.run((signal) => (this.#sessionP = this.#lazy!.beginSession(this.#server, this.#config.value!, consent, nonce, this.mode, signal)));
  }

  #loadFrame(): void {
    if (this.mode === 'native') return this.#loadNative();
    this.#embed?.dispose();
    void this.#frame.run(async (signal) => {
      await this.updateComplete;
      const config = this.#config.value!;
      const session = () => this.#sessionP!;
      const embed = (this.#embed = new this.#lazy!.EmbedSession(
        {
          calOrigin: config.calOrigin,
          calLink: bookingLink(config, this.#event),
          frameTitle: this.#t.frameTitle,
          timeout: CalbridgeBooking.frameTimeout,
          link: { tenant: config.tenant, nonce: this.#nonce! },
          name: this.name,
          email: this.email,
          theme: this.theme || config.theme,
          report: { server: this.#server, tenant: config.tenant, session, consent: this.#consent!, eventType: this.#event ?? null },
        },
        {
          resize: (h) => {
            this.#height = h;
            this.requestUpdate();
          },
          booked: (detail, error) => {
            this.#booked = true;
            this.requestUpdate();
            if (error) this.#fail(error);
            emit(this, 'calbridge-booked', detail);
          },
          failed: (e) => {
            embed.dispose();
            this.#frame.error = e;
            this.#frame.status = 3;
            this.#fail(e);
            this.requestUpdate();
          },
        },
      ));
      await embed.mount(this.renderRoot.querySelector<HTMLElement>('.frame')!, signal);
      return embed.namespace;
    });
  }

  /** Native mode: checks the tenant offers it and the session may book, then loads the picker's chunk. */
  #loadNative(): void {
    void this.#frame.run(async () => {
      const [m, session] = await Promise.all([loadNative(), this.#sessionP!]);
      this.#nativeChunk = m;
      m.assertNative(this.#config.value!, session, this.#event);
      return '';
    });
  }

  #onSubmit = (e: SubmitEvent): void => {
    e.preventDefault();
    const config = this.#config.value!;
    this.#startSession({ version: config.consent.version, purposes: this.#lazy!.formPurposes(config, e.target as HTMLFormElement), source: 'widget' });
    this.#focusPanel();
  };

  #onClose = (): void => {
    this.#returnTo?.focus();
    this.#returnTo = null;
    emit(this, 'calbridge-close', {});
  };

  /** Focus trap: a guard at either end of the dialog sends focus round to the other end. */
  #wrap(toLast: boolean): void {
    const list = focusables(this.#dialog!);
    list[toLast ? list.length - 1 : 0]?.focus();
  }

  #focusPanel(): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.panel')?.focus());
  }

  #message(e: unknown, t: Strings): string {
    const code = toWidgetError(e, 'server_error').code;
    return code in t ? t[code as keyof Strings] : /^(frame|embed)/.test(code) ? t.frame : t.error;
  }

  #error(e: unknown, t: Strings, retry: () => void): TemplateResult {
    const c = this.#config.value;
    return html`<div part="error">
      <p>${this.#message(e, t)}</p>
      <button
        class="primary"
        part="button"
        @click=${() => {
          retry();
          this.#focusPanel();
        }}
      >
        ${t.retry}
      </button>
      ${c
        ? html`<a href=${`${c.calOrigin}/${bookingLink(c, this.#event)}`} target="_blank" rel="noopener">${t.fallback}</a>`
        : html`<slot></slot>`}
    </div>`;
  }

  /** What the polite live region says: loading after consent, errors, the confirmed booking. */
  #announcement(t: Strings): string {
    for (const s of [this.#config, this.#session, this.#frame]) if (s.failed) return this.#message(s.error, t);
    return this.#booked ? t.booked : this.#session.pending || this.#frame.pending ? t.loading : '';
  }

  #panel(t: Strings): TemplateResult {
    const loading = () => html`<p>${t.loading}</p>`;
    return html`<div class="panel" tabindex="-1">
      ${this.#config.render({
        pending: loading,
        error: (e) => this.#error(e, t, () => this.#loadConfig()),
        complete: (config) =>
          this.#session.render({
            initial: () => this.#lazy!.consentForm(config, t, this.#onSubmit),
            pending: () => this.#view(t),
            error: (e) => this.#error(e, t, () => this.#startSession()),
            complete: () => this.#view(t),
          }),
      })}
    </div>`;
  }

  /** After consent: the frame (or native picker), which starts while the session is minted. */
  #view(t: Strings): TemplateResult | undefined {
    const loading = () => html`<p>${t.loading}</p>`;
    return this.mode === 'native'
      ? this.#frame.render({ pending: loading, error: (e) => this.#error(e, t, () => this.#loadFrame()), complete: () => this.#nativeChunk!.nativeView(this, this.#server, this.#session.value!.token, this.#event!, this.#keys[0]!, this.#consent!) })
      : html`<div class="frame" part="frame" style=${this.#height ? `height:${this.#height}px` : ''}>
          ${this.#frame.render({ pending: loading, error: (e) => this.#error(e, t, () => this.#loadFrame()) })}
        </div>`;
  }

  override render(): TemplateResult {
    const t = this.#t;
    const theme = this.theme || this.#config.value?.theme || 'auto';
    const live = html`<div class="sr-only" role="status">${this.#announcement(t)}</div>`;
    if (!this.#dialogMode)
      return html`<div part="base" class="base inline" data-theme=${theme}>${this.#panel(t)}${live}</div>`;
    return html`<div part="base" class="base" data-theme=${theme}>
      <button
        part="trigger"
        class="primary ${this.mode === 'floating' ? 'launcher' : ''}"
        aria-haspopup="dialog"
        @click=${this.open}
      >
        ${t.book}
      </button>
      <dialog part="dialog" aria-labelledby="title" @close=${this.#onClose}>
        <div tabindex="0" @focus=${() => this.#wrap(true)}></div>
        <header>
          <h2 id="title">${t.book}</h2>
          <button part="close-button" class="close" aria-label=${t.close} @click=${this.close}>✕</button>
        </header>
        ${this.#opened ? this.#panel(t) : nothing}
        <div tabindex="0" @focus=${() => this.#wrap(false)}></div>
      </dialog>
      ${live}
    </div>`;
  }
}
