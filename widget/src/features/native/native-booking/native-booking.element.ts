import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
// Some 400 time zone options: rendered again only when the zone changes, not on every day or page.
import { guard } from 'lit/directives/guard.js';
import type { NativeBookingResponse, Slot, SlotsQuery, SlotsResponse } from '@calbridge/shared';
import { createBooking, fetchSlots, readSlots } from '../../../entities/booking/booking.js';
import { emit } from '../../../shared/events/emit.js';
import { AsyncState } from '../../../shared/lib/async-state.js';
import { toWidgetError, WidgetError } from '../../../shared/lib/widget-error.js';
import { addDays, browserZone, firstPageQuery, formatDay, formatTime, moveFocus, PAGE_DAYS, pageDays, slotsQuery, timeZones, today, weekStart } from '../calendar.js';
import { LocaleController } from '../../../shared/i18n/locale-controller.js';
import { fill, nativeStrings, type NativeStrings } from '../native-strings.js';
import { styles } from './native-booking.styles.js';

/** The form's field errors, each the message shown under its field. */
type FieldErrors = { name?: string; email?: string };
/** A chosen time and the idempotency key of its booking (kept across retries, new per time). */
type Chosen = { slot: Slot; key: string };
/**
 * What the picker is doing: `picking` a day and time; the `details` form for a chosen time
 * (with the errors of the last submit); `booking` it (a second submit is ignored); `failed`
 * (a retry reuses the key, so it books at most once); `booked`. Free times load separately
 * (`#slots`), as they are kept while the visitor goes to the form and back.
 */
type State =
  | { status: 'picking' }
  | (Chosen & { status: 'details'; errors: FieldErrors })
  | (Chosen & { status: 'booking' | 'failed' })
  | { status: 'booked'; booking: NativeBookingResponse };

/** How far ahead the picker pages: this many four-week pages after the current one. */
const MAX_PAGES = 6;

/**
 * The first page of free times: from the session's answer (decision 0027), or asked for as soon
 * as the session answers (`prefetchSlots`), before the picker has rendered; taken once by the first
 * picker whose first request is exactly this one (same server, tenant, token and query), which
 * then does not ask again. One at a time.
 */
let prefetched: { key: string; slots: Promise<SlotsResponse> } | undefined;
const slotsKey = (server: string, tenant: string, token: string, q: SlotsQuery): string => JSON.stringify([server, tenant, token, q]);

/**
 * Readies the page a new picker shows first (today's week in the browser's time zone): the
 * session answer's `carried` page when it is exactly that page, else a request sent now, so the
 * second round trip (when there is one) leaves the moment the session answers instead of after
 * the picker has rendered.
 */
export function prefetchSlots(server: string, tenant: string, token: string, event: string, carried?: unknown): void {
  const q = firstPageQuery(event);
  const page = readSlots(carried);
  // The window it covers (readSlots checks the rest): taken only for exactly the first page.
  const { start, end } = (page ?? {}) as { start?: unknown; end?: unknown };
  const same = page && page.eventType === q.eventType && page.timeZone === q.timeZone && start === q.start && end === q.end;
  const slots = same ? Promise.resolve({ eventType: page.eventType, timeZone: page.timeZone, days: page.days }) : fetchSlots(server, tenant, token, q);
  // Its failure is the picker's to show (it asks again); not an unhandled rejection meanwhile.
  slots.catch(() => undefined);
  prefetched = { key: slotsKey(server, tenant, token, q), slots };
}

/** The prefetched page when it is exactly `q` for this token (once), else nothing. */
function takePrefetched(server: string, tenant: string, token: string, q: SlotsQuery): Promise<SlotsResponse> | undefined {
  if (prefetched?.key !== slotsKey(server, tenant, token, q)) return undefined;
  const { slots } = prefetched;
  prefetched = undefined;
  return slots;
}
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Native booking: an accessible slot picker and booking form that book through the Calbridge
 * server, never framing Cal.com. Used inside `<calbridge-booking mode="native">` after consent,
 * with the session's token. It reports by events that bubble and compose, so the page hears them
 * from `<calbridge-booking>`: `calbridge-booked` once a booking is made, `calbridge-error` when
 * loading times or booking fails (the element itself shows a way on).
 *
 * Keyboard: in the day grid (one tab stop), arrow keys move by day and week, Home/End to the
 * start/end of the week, PageUp/PageDown by four weeks; selection follows focus; Enter moves to
 * the day's first free time. Times are buttons; the form's errors are linked with aria-describedby.
 *
 * @tagname calbridge-native-booking
 * @summary Slot picker and booking form of native mode (internal to `<calbridge-booking>`).
 *
 * @csspart grid - The day grid.
 * @csspart slot - Each free time's button.
 * @csspart form - The booking form.
 * @csspart button - Primary buttons.
 *
 * @cssproperty --calbridge-accent - Accent colour of buttons, the selected day and focus rings.
 */
export class CalbridgeNativeBooking extends LitElement {
  static override styles = styles;

  static override properties = {
    server: {},
    tenant: {},
    token: {},
    event: {},
    name: {},
    email: {},
    locale: {},
  };

  /** Calbridge server origin. */
  declare server: string;
  /** Tenant slug. */
  declare tenant: string;
  /** Widget session token with the `bookings:create` scope. */
  declare token: string;
  /** Event type slug. */
  declare event: string;
  /** Prefills the name field. */
  declare name: string | undefined;
  /** Prefills the email field. */
  declare email: string | undefined;
  /** BCP 47 locale for strings, dates and times; defaults to the nearest `lang`, then the browser's. */
  declare locale: string | undefined;

  #failed(err: WidgetError): void {
    emit(this, 'calbridge-error', { code: err.code, status: err.status });
  }
  /**
   * Mints a new session token with the consent already given. Sessions live minutes; a visitor
   * who takes longer gets `session_expired` once, and the call is retried with a fresh token.
   */
  renew?: () => Promise<string>;

  /** The token calls use: the `token` property, or a renewed one. */
  #token = '';

  #tz = browserZone();
  #base = '';
  #page = 0;
  #focus = '';
  #state: State = { status: 'picking' };
  #announce = '';
  /** Said before the next day announcement (e.g. why the picker is back). */
  #note = '';
  #moveFocus = false;
  #auto = true;
  #slots = new AsyncState<SlotsResponse>(this, {
    complete: (r) => {
      // Until the visitor moves, selection starts on the first day with free times.
      if (this.#auto && !this.#dayHasSlots(this.#focus)) {
        const first = r.days.find((d) => d.slots.length && this.#onPage(d.date) && d.date >= this.#today);
        if (first) this.#focus = first.date;
      }
      this.#announceDay();
    },
    error: (e) => this.#failed(toWidgetError(e, 'server_error')),
  });
  #i18n = new LocaleController<NativeStrings>(this, nativeStrings, nativeStrings(''));

  get #t(): NativeStrings {
    return this.#i18n.t;
  }

  get #today(): string {
    return today(this.#tz);
  }

  get #start(): string {
    return addDays(this.#base, this.#page * PAGE_DAYS);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.#base) {
      this.#base = weekStart(this.#today);
      this.#focus = this.#today;
    }
    if (changed.has('token')) this.#token = this.token;
    if (changed.has('token') || changed.has('event') || changed.has('tenant') || changed.has('server')) this.#load();
  }

  protected override updated(): void {
    if (this.#moveFocus) {
      this.#moveFocus = false;
      this.renderRoot.querySelector<HTMLElement>('td[tabindex="0"]')?.focus();
    }
  }

  /** Runs `fn` with the session token; an expired session is renewed once and `fn` retried. */
  async #withToken<T>(fn: (token: string) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#token);
    } catch (e) {
      if (!(e instanceof WidgetError) || e.code !== 'session_expired' || !this.renew) throw e;
      this.#token = await this.renew();
      return fn(this.#token);
    }
  }

  #load(): void {
    if (!this.token || !this.event) return;
    const q = slotsQuery(this.event, this.#start, this.#tz);
    void this.#slots.run((signal) =>
      // A renewed token never matches the prefetched page: an expired session asks again.
      this.#withToken((token) => takePrefetched(this.server, this.tenant, token, q) ?? fetchSlots(this.server, this.tenant, token, q, signal)),
    );
  }

  #onPage(day: string): boolean {
    return day >= this.#start && day < addDays(this.#start, PAGE_DAYS);
  }

  #daySlots(day: string): Slot[] {
    return this.#slots.value?.days.find((d) => d.date === day)?.slots ?? [];
  }

  #dayHasSlots(day: string): boolean {
    return this.#daySlots(day).length > 0;
  }

  #when(iso: string): string {
    return `${new Intl.DateTimeFormat(this.#i18n.locale, { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit', timeZone: this.#tz }).format(new Date(iso))} (${this.#tz})`;
  }

  #dayLabel(day: string): string {
    return formatDay(day, this.#i18n.locale, { weekday: 'long', day: 'numeric', month: 'long' });
  }

  #announceDay(): void {
    if (!this.#slots.complete) return;
    const n = this.#daySlots(this.#focus).length;
    const day = n ? fill(this.#t.timesCount, { n, day: this.#dayLabel(this.#focus) }) : this.#t.noTimes;
    this.#announce = this.#note ? `${this.#note} ${day}` : day;
    this.#note = '';
  }

  /** Moves focus (and selection) to `day`, turning the page when it lies on another one. */
  #go(day: string): void {
    const min = this.#base;
    const max = addDays(this.#base, (MAX_PAGES + 1) * PAGE_DAYS - 1);
    day = day < min ? min : day > max ? max : day;
    this.#auto = false;
    this.#focus = day;
    this.#moveFocus = true;
    if (!this.#onPage(day)) {
      this.#page = Math.floor((Date.parse(day) - Date.parse(this.#base)) / (PAGE_DAYS * 86_400_000));
      this.#load();
    } else this.#announceDay();
    this.requestUpdate();
  }

  #onGridKey = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.renderRoot.querySelector<HTMLElement>('.slots button')?.focus();
      return;
    }
    const to = moveFocus(this.#focus, e.key);
    if (!to) return;
    e.preventDefault();
    this.#go(to);
  };

  #turn(by: number): void {
    this.#go(addDays(this.#start, by * PAGE_DAYS));
    this.#moveFocus = false;
  }

  /**
   * Whether the time zone list holds every zone, not just the visitor's. The whole list (some 430
   * options) was most of the picker's first render: 12–14 ms between the picker's insertion and
   * its first times. It is filled a moment after the picker is shown (300 ms, then when the page
   * is idle), or at once when the list is focused or pressed before that.
   */
  #allZones = false;
  /** Cancels the pending fill, if any. */
  #zonesLater: (() => void) | undefined;

  #fillZones = (): void => {
    this.#cancelZones();
    if (this.#allZones) return;
    this.#allZones = true;
    this.requestUpdate();
  };

  #cancelZones(): void {
    this.#zonesLater?.();
    this.#zonesLater = undefined;
  }

  protected override firstUpdated(): void {
    // Not in the idle period right after the first paint: that would hold up the frames that follow it.
    const whenIdle = (): void => {
      if (!('requestIdleCallback' in window)) return this.#fillZones(); // Safari
      const id = requestIdleCallback(this.#fillZones, { timeout: 1000 });
      this.#zonesLater = () => cancelIdleCallback(id);
    };
    const t = setTimeout(whenIdle, 300);
    this.#zonesLater = () => clearTimeout(t);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#cancelZones();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Added again before the list was filled: fill it now rather than never.
    if (this.hasUpdated && !this.#allZones) this.#fillZones();
  }

  #onTimeZone = (e: Event): void => {
    this.#tz = (e.target as HTMLSelectElement).value;
    this.#load();
  };

  #set(state: State): void {
    this.#state = state;
    this.requestUpdate();
  }

  #choose(slot: Slot): void {
    this.#announce = fill(this.#t.chosen, { when: this.#when(slot.start) });
    this.#set({ status: 'details', slot, key: crypto.randomUUID(), errors: {} });
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('form input')?.focus());
  }

  #focusCell(): void {
    this.#moveFocus = true;
    this.requestUpdate();
  }

  #back = (): void => {
    this.#state = { status: 'picking' };
    this.#focusCell();
  };

  #onSubmit = (e: SubmitEvent): void => {
    e.preventDefault();
    const s = this.#state;
    // A second click while the first is in flight is ignored; a retry after a failure reuses the key.
    if (s.status !== 'details' && s.status !== 'failed') return;
    const form = e.target as HTMLFormElement;
    const name = (form.elements.namedItem('name') as HTMLInputElement).value.trim();
    const email = (form.elements.namedItem('email') as HTMLInputElement).value.trim();
    const t = this.#t;
    const errors = { ...(name ? {} : { name: t.nameMissing }), ...(EMAIL.test(email) ? {} : { email: t.emailInvalid }) };
    if (errors.name || errors.email) {
      this.#announce = t.fixErrors;
      this.#set({ status: 'details', slot: s.slot, key: s.key, errors });
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    const [lang = ''] = this.#i18n.locale.toLowerCase().split('-');
    const booking = { status: 'booking', slot: s.slot, key: s.key } as const;
    this.#announce = t.booking;
    this.#set(booking);
    void this.#withToken((token) =>
      createBooking(this.server, this.tenant, token, s.key, {
        eventType: this.event,
        start: s.slot.start,
        attendee: { name, email, timeZone: this.#tz, ...(/^[a-z]{2}$/.test(lang) ? { language: lang } : {}) },
      }),
    ).then(
      (b) => this.#state === booking && this.#booked(b),
      (e: unknown) => this.#state === booking && this.#bookingFailed(booking, toWidgetError(e, 'server_error')),
    );
  };

  #booked(b: NativeBookingResponse): void {
    this.#announce = fill(this.#t.booked, { when: this.#when(b.start) });
    this.#set({ status: 'booked', booking: b });
    emit(this, 'calbridge-booked', { uid: b.uid, startTime: b.start, endTime: b.end, eventType: this.event, rescheduled: false, rescheduledFromUid: null });
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.done')?.focus());
  }

  #bookingFailed(chosen: Chosen, err: WidgetError): void {
    this.#failed(err);
    if (err.code === 'calcom_rejected') {
      // The time was taken meanwhile: back to the picker with fresh times (a new time gets a new key).
      this.#note = this.#t.taken;
      this.#state = { status: 'picking' };
      this.#load();
      this.#focusCell();
    } else {
      this.#announce = this.#t.failed;
      this.#set({ status: 'failed', slot: chosen.slot, key: chosen.key });
    }
  }

  #grid(): TemplateResult {
    const t = this.#t;
    const start = this.#start;
    const days = pageDays(start);
    const todayDay = this.#today;
    const loaded = this.#slots.complete;
    const weekdays = days.slice(0, 7);
    return html`<table role="grid" part="grid" aria-label=${t.days} @keydown=${this.#onGridKey}>
      <thead>
        <tr>
          ${weekdays.map(
            (d) => html`<th scope="col"><abbr title=${formatDay(d, this.#i18n.locale, { weekday: 'long' })}>${formatDay(d, this.#i18n.locale, { weekday: 'short' })}</abbr></th>`,
          )}
        </tr>
      </thead>
      <tbody>
        ${[0, 1, 2, 3].map(
          (w) => html`<tr>
            ${days.slice(w * 7, w * 7 + 7).map((d) => {
              const n = this.#daySlots(d).length;
              const off = d < todayDay || (loaded && !n);
              const label = `${this.#dayLabel(d)}${loaded ? `, ${fill(t.count, { n })}` : ''}`;
              return html`<td
                role="gridcell"
                tabindex=${d === this.#focus ? 0 : -1}
                aria-selected=${d === this.#focus ? 'true' : 'false'}
                aria-disabled=${off ? 'true' : 'false'}
                aria-label=${label}
                class=${n ? 'free' : ''}
                data-day=${d}
                @click=${() => this.#go(d)}
              >
                ${Number(d.slice(8))}
              </td>`;
            })}
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  #times(): TemplateResult {
    const t = this.#t;
    return this.#slots.render({
      initial: () => html``,
      pending: () => html`<p>${t.loadingTimes}</p>`,
      error: () => html`<p>${t.loadFailed}</p>
        <button class="primary" part="button" @click=${() => this.#load()}>${t.retry}</button>`,
      complete: () => {
        const slots = this.#daySlots(this.#focus);
        return html`<h4 id="times">${fill(t.times, { day: this.#dayLabel(this.#focus) })}</h4>
          ${slots.length
            ? html`<ul class="slots" aria-labelledby="times">
                ${slots.map(
                  (s) => html`<li><button part="slot" @click=${() => this.#choose(s)}>${formatTime(s.start, this.#i18n.locale, this.#tz)}</button></li>`,
                )}
              </ul>`
            : html`<p>${this.#focus < this.#today ? t.pickDay : t.noTimes}</p>`}`;
      },
    });
  }

  #picker(): TemplateResult {
    const t = this.#t;
    const start = this.#start;
    const range = `${formatDay(start, this.#i18n.locale, { day: 'numeric', month: 'short' })} – ${formatDay(addDays(start, PAGE_DAYS - 1), this.#i18n.locale, { day: 'numeric', month: 'short', year: 'numeric' })}`;
    return html`<div class="tz">
        <label for="tz">${t.timeZone}</label>
        <select id="tz" @change=${this.#onTimeZone} @focus=${this.#fillZones} @pointerdown=${this.#fillZones}>
          ${guard([this.#tz, this.#allZones], () =>
            (this.#allZones ? timeZones(this.#tz) : [this.#tz]).map((z) => html`<option value=${z} ?selected=${z === this.#tz}>${z.replace(/_/g, ' ')}</option>`),
          )}
        </select>
      </div>
      <div class="nav">
        <button aria-label=${t.previous} ?disabled=${this.#page === 0} @click=${() => this.#turn(-1)}>‹</button>
        <span>${range}</span>
        <button aria-label=${t.next} ?disabled=${this.#page >= MAX_PAGES} @click=${() => this.#turn(1)}>›</button>
      </div>
      ${this.#grid()} ${this.#times()}`;
  }

  #form(s: Extract<State, Chosen>): TemplateResult {
    const t = this.#t;
    const err = s.status === 'details' ? s.errors : {};
    const pending = s.status === 'booking';
    const field = (id: 'name' | 'email', type: string, value: string | undefined) =>
      html`<div class="field">
        <label for=${id}>${t[id]}</label>
        <input
          id=${id}
          name=${id}
          type=${type}
          autocomplete=${id}
          required
          .value=${value ?? ''}
          aria-invalid=${err[id] ? 'true' : 'false'}
          aria-describedby=${err[id] ? `${id}-error` : nothing}
        />
        ${err[id] ? html`<p id=${`${id}-error`} class="field-error">${err[id]}</p>` : nothing}
      </div>`;
    return html`<p>${fill(t.chosen, { when: this.#when(s.slot.start) })}</p>
      <button class="link" @click=${this.#back}>${t.change}</button>
      <form part="form" novalidate @submit=${this.#onSubmit} aria-labelledby="details">
        <h4 id="details">${t.details}</h4>
        ${field('name', 'text', this.name)} ${field('email', 'email', this.email)}
        ${s.status === 'failed' ? html`<p class="field-error">${t.failed}</p>` : nothing}
        <button class="primary" part="button" aria-disabled=${pending ? 'true' : 'false'}>${pending ? t.booking : t.confirm}</button>
      </form>`;
  }

  #content(): TemplateResult {
    const s = this.#state;
    switch (s.status) {
      case 'picking':
        return this.#picker();
      case 'details':
      case 'booking':
      case 'failed':
        return this.#form(s);
      case 'booked':
        return html`<p class="done" tabindex="-1">${fill(this.#t.booked, { when: this.#when(s.booking.start) })}</p>`;
    }
  }

  override render(): TemplateResult {
    return html`<section class="native" aria-labelledby="heading">
      <h3 id="heading">${this.#t.heading}</h3>
      ${this.#content()}
      <div class="sr-only" role="status">${this.#announce}</div>
    </section>`;
  }
}
