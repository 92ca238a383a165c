import { LitElement, html, type TemplateResult } from 'lit';
import type * as LazyChunk from './calbridge-booking.lazy.js';
import type { ConsentDetails } from '../../features/consent/consent.js';
import { watchCmp } from '../../features/consent/cmp.js';
import { consentForm, formPurposes } from '../../features/consent/consent-form.js';
import type { ConsentChoice } from '../../entities/session/session.js';
import { checkTenantConfig, type TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import { requestJson, widgetUrl } from '../../shared/api/request.js';
import { emit } from '../../shared/events/emit.js';
import { LocaleController } from '../../shared/i18n/locale-controller.js';
import { en, loadStrings, type Strings } from '../../shared/i18n/strings.js';
import { toWidgetError, WidgetError } from '../../shared/lib/widget-error.js';
import { styles } from './calbridge-booking.styles.js';
import type { BookingDialog } from './calbridge-booking.dialog.js';
import type { Hooks, Open as OpenState } from './calbridge-booking.open.js';

export type { ConsentDetails };

type Lazy = typeof LazyChunk;
let lazy: Promise<Lazy> | undefined;
/** The lazy chunk once it has loaded: consent then frames the booking page in the click's own task. */
let loaded: Lazy | undefined;

/** Loads (once) the element's lazy chunk; a failed load is retried on the next call. */
const loadLazy = (): Promise<Lazy> =>
  (lazy ??= import('./calbridge-booking.lazy.js').then(
    (m) => (loaded = m),
    (e: unknown) => {
      lazy = undefined;
      throw new WidgetError('embed_load_failed', 0, { cause: e });
    },
  ));

/**
 * What `<calbridge-booking>` is doing: one status at a time, each with exactly what it needs.
 * `loading` fetches the tenant config; `consenting` shows the consent form (or waits for the
 * page's consent manager) with widget.js's code alone; `open` has consent and the lazy chunk:
 * its session is minted while its `view` loads; `failed` shows why, and `retry` goes back to
 * the step that failed.
 */
type State =
  | { status: 'loading' }
  | Consenting
  | Open
  | { status: 'failed'; error: unknown; retry: () => void; config?: TenantConfig | undefined };
type Consenting = { status: 'consenting'; config: TenantConfig };
/** Its steps are in the lazy chunk (calbridge-booking.open.ts), which only this state needs. */
type Open = OpenState<Lazy>;
type Failed = Extract<State, { status: 'failed' }>;

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
 * @cssproperty --calbridge-inline-height - Height of the inline box from the first paint (default 700px): the booking page scrolls inside it when taller, and nothing after the element moves.
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

  #state: State = { status: 'loading' };
  /** Consent the page granted before the config arrived, applied once it has. */
  #granted?: ConsentDetails | undefined;
  /**
   * Stops watching the page's consent manager (`consent="tcf"`/`"gcm"`): watched while the
   * consent step shows and the element is on the page (started in `updated`, decision 0038).
   */
  #cmp?: (() => undefined) | undefined;
  /** Aborted when the tenant or server changes: the config fetch and session request of the old one. */
  #run = new AbortController();
  #tenantKey = '';

  #i18n = new LocaleController<Strings>(this, loadStrings, en);
  // Made from the lazy chunk when first needed (decision 0026): the dialog on the first open (popup,
  // floating); the viewport watch (inline, native) is made at consent and kept in `#hooks` (decision 0038).
  #modal?: BookingDialog;
  /**
   * The lazy chunk's consent and view steps (calbridge-booking.open.ts) reach the state machine
   * only through these; it stays private to the element (decision 0032).
   */
  #hooks: Hooks<Lazy> = {
    el: this,
    get: () => this.#state,
    set: (s, now) => this.#set(s, now),
    fail: (e, retry, config) => this.#fail(e, retry, config),
    srv: () => this.#server,
    sig: () => this.#run.signal,
  };

  constructor() {
    super();
    this.mode = 'inline';
    // The first pointer or focus on the element loads what a click will need (our own chunk,
    // nothing from Cal.com), never on idle: listeners on the element itself, so nothing is added to the page.
    // (`pointerover` fires for touch too, before the tap's click.)
    this.addEventListener('pointerover', this.#warm);
    this.addEventListener('focusin', this.#warm);
  }

  get #dialogMode(): boolean {
    return this.mode === 'popup' || this.mode === 'floating';
  }

  /**
   * Loads our own chunks (never anything from Cal.com) once the visitor comes near the element:
   * the lazy chunk, then in native mode the picker's. A failed load shows when consent needs
   * the chunk, and is tried again then.
   */
  #warm = (): void => void loadLazy()
      .then((l): unknown => {
        // Popup, floating: the (closed) dialog is made as soon as its code is here, so a click opens it at once.
        if (this.#dialogMode) this.#dialog(l);
        // Native mode: the picker's chunk, and the page's first use of Intl's dates paid now rather than in the consent click (decision 0027).
        if (this.mode === 'native') return l.warmNative();
      })
      .catch(() => undefined);

  #dialog(lazy: Lazy): BookingDialog {
    if (!this.#modal) {
      this.#modal = new lazy.BookingDialog(this);
      this.requestUpdate();
    }
    return this.#modal;
  }

  get #server(): string {
    return this.server || new URL(import.meta.url).origin;
  }

  /** Shows `state`: at the next update, or in this task when `now` (the consent click's own task). */
  #set(state: State, now?: boolean): void {
    this.#state = state;
    this.requestUpdate();
    if (now) this.performUpdate();
  }

  /** Tells the page (`calbridge-error`); the state is the caller's to change. */
  #report = (e: unknown): void => {
    const err = toWidgetError(e, 'server_error');
    emit(this, 'calbridge-error', { code: err.code, status: err.status });
  };

  #fail(error: unknown, retry: () => void, config?: TenantConfig): void {
    this.#report(error);
    this.#set({ status: 'failed', error, retry, config });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#cmp = this.#cmp?.();
    // The frame goes with the element; the session stays, for when it is added again.
    const s = this.#state;
    if (s.status === 'open') this.#state = s.lazy.pause(s);
  }

  protected override willUpdate(): void {
    if (this.tenant + this.#server !== this.#tenantKey) {
      this.#tenantKey = this.tenant + this.#server;
      void this.#loadConfig();
    }
  }

  protected override updated(): void {
    const s = this.#state;
    const kind = this.consent;
    // The page's consent manager is watched from widget.js (decision 0038): a visitor who already
    // agreed there gets the chunk and the booking page without a click, and one who has not
    // fetches nothing more. Started once the consent step shows; stopped at consent, on a new
    // config and when the element leaves the page, and started again when it is added back (the
    // locale controller asks for an update then).
    if (s.status === 'consenting' && kind && !this.#cmp && this.isConnected) this.#cmp = watchCmp(kind, () => this.#grant(s, undefined, kind));
    // The view loads once there is consent and the element is near the viewport (inline) or
    // open; it starts with the session request (consent click), not after its answer.
    if (s.status === 'open') s.lazy.showView(this.#hooks, s, this.#modal?.opened, this.#i18n.t.frameTitle, CalbridgeBooking.frameTimeout);
  }

  /** Opens the booking dialog (popup and floating modes) and moves focus into it. */
  async open(): Promise<void> {
    // The dialog's code and styles are in the lazy chunk, loading since the pointer or focus came
    // near: once it is here, the dialog opens in this task (BookingDialog.show).
    this.#warm();
    let lazy = loaded;
    if (!lazy)
      try {
        lazy = await loadLazy();
      } catch (e) {
        return this.#report(e);
      }
    return this.#dialog(lazy).show(() => this.performUpdate());
  }

  /** Closes the booking dialog; focus returns to where it was before `open()`. */
  close(): void {
    this.#modal?.dialog?.close();
  }

  /**
   * Records consent the host page's own consent manager already collected, skipping the
   * consent form. Purposes must include every required purpose of the tenant; `version`,
   * when given, must match the tenant's consent text version. Fires `calbridge-error`
   * with `consent_invalid` otherwise.
   */
  grantConsent(details: ConsentDetails): void {
    const s = this.#state;
    if (s.status === 'loading' || (s.status === 'failed' && !s.config)) this.#granted = details;
    if (s.status !== 'consenting') return;
    this.#granted = undefined;
    this.#grant(s, details);
  }

  /**
   * Consent given while `s` shows, with its `source`: the consent form (`widget`, then focus
   * goes to the panel), `grantConsent` (`api`) or the page's consent manager (`tcf`, `gcm`: the
   * required purposes). The chunk's `checkConsent` makes the choice; one it refuses is reported.
   */
  #grant(s: Consenting, details: ConsentDetails | undefined, source: NonNullable<ConsentChoice['source']> = 'api'): void {
    this.#withLazy(s, (lazy) => {
      try {
        this.#consent(s, lazy, lazy.checkConsent(s.config, details, source));
        if (source === 'widget') this.#focusPanel();
      } catch (e) {
        this.#report(e);
      }
    });
  }

  /**
   * Runs `go` with the lazy chunk while `s` is still shown: in the same task when the chunk has
   * loaded (the visitor's pointer or focus reached the element first), otherwise once it has,
   * so a consent click or key press that comes first is kept, never lost, and acted on once. A
   * chunk that fails to load shows `embed_load_failed`; retry shows the consent step again and
   * goes on from there.
   */
  #withLazy(s: Consenting, go: (lazy: Lazy) => void): void {
    if (loaded) return go(loaded);
    loadLazy().then(
      (l) => this.#state === s && go(l),
      (e: unknown) =>
        this.#state === s &&
        this.#fail(
          e,
          () => {
            this.#set(s);
            this.#withLazy(s, go);
          },
          s.config,
        ),
    );
  }

  async #loadConfig(): Promise<void> {
    this.#run.abort();
    const { signal } = (this.#run = new AbortController());
    const s = this.#state;
    if (s.status === 'open') s.lazy.takeDown(s.view);
    this.#cmp = this.#cmp?.();
    this.#set({ status: 'loading' });
    try {
      if (!this.tenant) throw new WidgetError('missing_tenant');
      // The consent step needs only widget.js: the lazy chunk (what consent starts) waits for
      // the visitor's first pointer or focus on the element (#warm), in every mode.
      const config = checkTenantConfig(await requestJson(widgetUrl(this.#server, this.tenant, 'config'), {}, signal), this.mode);
      const consenting: Consenting = { status: 'consenting', config };
      this.#set(consenting);
      void this.updateComplete.then(() => emit(this, 'calbridge-ready', { tenant: consenting.config.tenant, mode: this.mode }));
      if (this.#granted) this.grantConsent(this.#granted);
    } catch (e) {
      if (!signal.aborted) this.#fail(e, () => void this.#loadConfig());
    }
  }

  /**
   * On consent (the click's own task when the chunk is here): the consent manager's watch
   * stops, then the chunk's `openWith` mints the session and shows the view.
   */
  #consent({ config }: { config: TenantConfig }, lazy: Lazy, consent: ConsentChoice): void {
    this.#cmp?.();
    lazy.openWith(this.#hooks, lazy, config, consent);
  }

  #onSubmit = (e: SubmitEvent): void => {
    e.preventDefault();
    const s = this.#state;
    if (s.status !== 'consenting') return;
    this.#grant(s, { purposes: formPurposes(s.config, e.target as HTMLFormElement) }, 'widget');
  };

  #onClose = (): void => {
    this.#modal?.closed();
    emit(this, 'calbridge-close', {});
  };

  #focusPanel(): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.panel')?.focus());
  }

  #message(e: unknown, t: Strings): string {
    const code = toWidgetError(e, 'server_error').code;
    return code in t ? t[code as keyof Strings] : /^(frame|embed)/.test(code) ? t.frame : t.error;
  }

  #error({ error, retry, config: c }: Failed, t: Strings): TemplateResult {
    return html`<div part="error">
      <p>${this.#message(error, t)}</p>
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
      ${c && loaded ? loaded.fallbackLink(this, c, t.fallback) : html`<slot></slot>`}
    </div>`;
  }

  /** What the polite live region says: loading after consent, errors, the confirmed booking. */
  #announcement(t: Strings): string {
    const s = this.#state;
    switch (s.status) {
      case 'failed':
        return this.#message(s.error, t);
      case 'open':
        return s.lazy.announce(s.view, t);
      default:
        return '';
    }
  }

  #panel(t: Strings): TemplateResult {
    return html`<div class="panel" tabindex="-1">${this.#content(t)}</div>`;
  }

  #content(t: Strings): TemplateResult {
    const s = this.#state;
    switch (s.status) {
      case 'loading':
        return html`<p>${t.loading}</p>`;
      case 'consenting':
        return consentForm(s.config, t, this.#onSubmit);
      case 'open':
        return s.lazy.viewTemplate(this, s, t.loading, this.#server, this.#i18n.locale);
      case 'failed':
        return this.#error(s, t);
    }
  }

  override render(): TemplateResult {
    const t = this.#i18n.t;
    const s = this.#state;
    const theme = this.theme || ('config' in s && s.config?.theme) || 'auto';
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
      ${this.#modal?.render(t, () => this.#panel(t), this.#onClose, this.close)} ${live}
    </div>`;
  }
}
