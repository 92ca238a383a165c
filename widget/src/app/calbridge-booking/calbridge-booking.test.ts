import { aTimeout, expect, fixture, fixtureCleanup, html, oneEvent, waitUntil } from '@open-wc/testing';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import 'axe-core/axe.min.js';
import type { AxeResults, RunOptions } from 'axe-core';
import './calbridge-booking.js';
import { CalbridgeBooking } from './calbridge-booking.element.js';
import { deepActiveElement } from '../../shared/ui/focus.js';

declare global {
  interface Window {
    axe: { run(context: Element, options: RunOptions): Promise<AxeResults> };
  }
}

interface LogEntry {
  cal?: boolean;
  method: string;
  path?: string;
  url?: string;
  body?: any;
  authorization?: string;
  contentType?: string;
}

// The fake frame is served from the same test server reached as 127.0.0.1 (another origin).
const CAL_ORIGIN = `http://127.0.0.1:${location.port}`;
const fakeLog = async (): Promise<LogEntry[]> => (await fetch('/__fake/log')).json();

/** Asserts axe finds no WCAG 2.x A/AA violation inside the element (shadow DOM included). */
async function expectAccessible(el: Element): Promise<void> {
  // Check the settled state: a fade-in in progress would read as low contrast.
  for (const a of el.shadowRoot!.getAnimations()) a.finish();
  const r = await window.axe.run(el, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  });
  expect(r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary}`).join(', ')}`)).to.deep.equal([]);
}

const $ = <T extends Element = HTMLElement>(el: CalbridgeBooking, sel: string) => el.shadowRoot!.querySelector<T>(sel);
const live = (el: CalbridgeBooking) => $(el, '[role="status"]')!.textContent.trim();

async function mount(markup: ReturnType<typeof html>): Promise<CalbridgeBooking> {
  const el = await fixture<CalbridgeBooking>(markup);
  await waitUntil(() => $(el, 'form, [part="error"]') || $(el, '[part="trigger"]'), 'element did not render', { timeout: 5000 });
  return el;
}

async function consented(el: CalbridgeBooking): Promise<void> {
  await waitUntil(() => $(el, 'form'), 'no consent form', { timeout: 5000 });
  const consent = oneEvent(el, 'calbridge-consent');
  $(el, 'form button')!.click();
  await consent;
}

const frameOf = async (el: CalbridgeBooking): Promise<HTMLIFrameElement> => {
  await waitUntil(() => $(el, 'iframe'), 'no frame', { timeout: 5000 });
  return $<HTMLIFrameElement>(el, 'iframe')!;
};

/** Resolves when a framed page has posted its size (`__dimensionChanged`), whoever handles it. */
const dimensionReported = () =>
  new Promise<number>((resolve) => {
    const on = (e: MessageEvent) => {
      if ((e.data as { type?: string } | null)?.type !== '__dimensionChanged') return;
      removeEventListener('message', on);
      resolve((e.data as { data: { iframeHeight: number } }).data.iframeHeight);
    };
    addEventListener('message', on);
  });

const bookingMessage = (ns: string, uid: string) => ({
  originator: 'CAL',
  type: 'bookingSuccessfulV2',
  namespace: ns,
  fullType: `CAL:${ns}:bookingSuccessfulV2`,
  data: { uid, startTime: '2026-12-01T09:00:00.000Z', endTime: '2026-12-01T09:30:00.000Z', eventTypeId: 7, status: 'ACCEPTED', paymentRequired: false, isRecurring: false },
});

describe('<calbridge-booking>', () => {
  afterEach(() => fixtureCleanup());

  it('should be defined once and typed through HTMLElementTagNameMap', () => {
    const el: HTMLElementTagNameMap['calbridge-booking'] = document.createElement('calbridge-booking');
    expect(el).to.be.instanceOf(CalbridgeBooking);
    expect(customElements.get('calbridge-booking')).to.equal(CalbridgeBooking);
  });

  it('should show an accessible consent form and contact nothing third-party before consent', async () => {
    const before = (await fakeLog()).filter((e) => e.cal).length;
    const ready = new Promise((r) => document.addEventListener('calbridge-ready', r, { once: true }));
    const el = await mount(html`<calbridge-booking tenant="demo"></calbridge-booking>`);
    const ev = (await ready) as CustomEvent;
    expect(ev.detail).to.deep.equal({ tenant: 'demo', mode: 'inline' });
    expect(ev.composed && ev.bubbles).to.equal(true);

    const form = $(el, 'form')!;
    expect(form.querySelector('fieldset > legend')!.textContent).to.contain('Before the calendar loads');
    const required = form.querySelector<HTMLInputElement>('input[name="booking"]')!;
    const optional = form.querySelector<HTMLInputElement>('input[name="marketing"]')!;
    expect([required.checked, required.disabled]).to.deep.equal([true, true]);
    expect([optional.checked, optional.disabled]).to.deep.equal([false, false]);
    expect(form.querySelector('a')!.getAttribute('href')).to.equal('https://example.com/privacy');
    expect(form.querySelectorAll('button')).to.have.length(1);
    await expectAccessible(el);

    await aTimeout(300);
    expect($(el, 'iframe')).to.equal(null);
    expect((await fakeLog()).filter((e) => e.cal).length).to.equal(before);
    const calResources = performance.getEntriesByType('resource').filter((r) => r.name.startsWith(CAL_ORIGIN));
    expect(calResources).to.have.length(0);
  });

  it('should complete consent with the keyboard, mint a session and frame the booking page with our metadata', async () => {
    const el = await mount(html`<calbridge-booking tenant="demo" name="Ada Lovelace" email="ada@example.com"></calbridge-booking>`);
    await waitUntil(() => $(el, 'form'));
    $(el, 'input[name="marketing"]')!.focus();
    await sendKeys({ press: 'Space' });
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()?.tagName).to.equal('A');
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()?.textContent).to.contain('Agree');
    const consent = oneEvent(el, 'calbridge-consent');
    const reported = dimensionReported();
    await sendKeys({ press: 'Enter' });
    const { detail } = await consent;
    expect(detail.purposes).to.deep.equal(['booking', 'marketing']);
    expect(detail.version).to.equal('2026-11-01');
    expect(detail.consentReceiptId).to.match(/^rcpt-\d+$/);

    const sessionPost = (await fakeLog()).filter((e) => e.path === '/v1/widget/demo/sessions').at(-1)!;
    expect(sessionPost.body.consent).to.deep.equal({ version: '2026-11-01', purposes: ['booking', 'marketing'], source: 'widget' });
    expect(sessionPost.body.context.pageUrl).to.equal(location.origin + location.pathname);
    expect(sessionPost.body.nonce).to.match(/^[A-Za-z0-9_-]{43}$/);
    // A CORS simple request: no preflight round trip before the session (decision 0042).
    expect(sessionPost.contentType).to.match(/^text\/plain/);
    expect(sessionPost.authorization).to.equal(undefined);
    expect(detail.source).to.equal('widget');

    const frame = await frameOf(el);
    const src = new URL(frame.src);
    expect(src.origin).to.equal(CAL_ORIGIN);
    expect(src.pathname).to.equal('/fake/intro/embed');
    expect(src.searchParams.get('name')).to.equal('Ada Lovelace');
    expect(src.searchParams.get('email')).to.equal('ada@example.com');
    expect(src.searchParams.get('metadata[calbridge_tenant]')).to.equal('demo');
    // The frame starts with the session request: the nonce, not the receipt, links the booking.
    expect(src.searchParams.get('metadata[cb_nonce]')).to.equal(sessionPost.body.nonce);
    expect(src.searchParams.has('metadata[cb_receipt]')).to.equal(false);
    expect(frame.title).to.equal('Booking calendar');

    // The page reports its height (480px): inline, the box keeps the height it was given from
    // the first paint (700px by default), so nothing after the element moves.
    await waitUntil(() => !$(el, '.frame > p'), 'still loading', { timeout: 5000 });
    await reported;
    expect($(el, '.frame')!.style.height).to.equal('');
    expect($(el, '.frame')!.getBoundingClientRect().height).to.equal(700);
    expect(el.getBoundingClientRect().height).to.equal(700);
    await expectAccessible(el);
  });

  it('should ignore frame messages from another origin or window and report a real booking', async () => {
    const el = await mount(html`<calbridge-booking tenant="demo"></calbridge-booking>`);
    await consented(el);
    const frame = await frameOf(el);
    await waitUntil(() => !$(el, '.frame > p'), 'frame not ready', { timeout: 5000 });
    const ns = new URL(frame.src).searchParams.get('embed')!;

    let booked: CustomEvent | undefined;
    el.addEventListener('calbridge-booked', (e) => (booked = e));
    window.dispatchEvent(new MessageEvent('message', { origin: 'https://evil.example', source: frame.contentWindow, data: bookingMessage(ns, 'forged-1') }));
    window.dispatchEvent(new MessageEvent('message', { origin: CAL_ORIGIN, source: window, data: bookingMessage(ns, 'forged-2') }));
    window.dispatchEvent(new MessageEvent('message', { origin: CAL_ORIGIN, source: frame.contentWindow, data: { ...bookingMessage(ns, 'forged-3'), data: { uid: 'forged-3' } } }));
    await aTimeout(300);
    expect(booked).to.equal(undefined);
    expect((await fakeLog()).some((e) => /forged/.test(JSON.stringify(e.body ?? '')))).to.equal(false);

    const bookedEvent = oneEvent(el, 'calbridge-booked');
    frame.contentWindow!.postMessage({ fake: 'book', uid: 'bk-real-1' }, CAL_ORIGIN);
    const { detail } = await bookedEvent;
    expect(detail).to.deep.equal({ uid: 'bk-real-1', startTime: '2026-12-01T09:00:00.000Z', endTime: '2026-12-01T09:30:00.000Z', eventType: 'intro', rescheduled: false, rescheduledFromUid: null });
    const observed = (await fakeLog()).filter((e) => e.path === '/v1/widget/demo/bookings/observed').at(-1)!;
    expect(observed.authorization).to.match(/^Bearer tok-\d+$/);
    expect(observed.body).to.deep.equal({ uid: 'bk-real-1', startTime: '2026-12-01T09:00:00.000Z', endTime: '2026-12-01T09:30:00.000Z', eventTypeId: 7, eventType: 'intro', status: 'ACCEPTED' });
    await waitUntil(() => live(el) === 'Your booking is confirmed.');
  });

  it('should announce loading politely and stay accessible while the session is minted', async () => {
    const el = await mount(html`<calbridge-booking tenant="slow"></calbridge-booking>`);
    await waitUntil(() => $(el, 'form'));
    // Everything the live region says, as it says it: the fake booking page can be ready within
    // one polling interval of the click (the frame starts in the click's task).
    const said: string[] = [];
    const region = $(el, '[role="status"]')!;
    const observer = new MutationObserver(() => said.push(region.textContent.trim()));
    observer.observe(region, { subtree: true, childList: true, characterData: true });
    $(el, 'form button')!.click();
    await waitUntil(() => said.includes('Loading the calendar…'), 'loading not announced');
    observer.disconnect();
    expect($(el, '.panel')).to.equal(deepActiveElement());
    await expectAccessible(el);
    await oneEvent(el, 'calbridge-consent');
  });

  it('should open a labelled modal dialog, trap focus, close on Escape and return focus to the trigger', async () => {
    const ready = new Promise((r) => document.addEventListener('calbridge-ready', r, { once: true }));
    const el = await mount(html`<calbridge-booking tenant="demo" mode="popup"></calbridge-booking>`);
    // Ready with the config alone, before any pointer or focus; the dialog's code loads when they come (decision 0026).
    await ready;
    const trigger = $(el, '[part="trigger"]')!;
    trigger.focus();
    const opened = oneEvent(el, 'calbridge-open');
    await sendKeys({ press: 'Enter' });
    await opened;
    const dialog = $<HTMLDialogElement>(el, 'dialog')!;
    expect(dialog.open).to.equal(true);
    expect(dialog.matches(':modal')).to.equal(true);
    expect($(el, `#${dialog.getAttribute('aria-labelledby')}`)!.textContent).to.equal('Book a call');
    const close = $(el, '.close')!;
    expect(deepActiveElement()).to.equal(close);
    const box = close.getBoundingClientRect();
    expect(box.width).to.be.at.least(24);
    expect(box.height).to.be.at.least(24);
    await waitUntil(() => dialog.querySelector('form'));
    await expectAccessible(el);

    // Tab goes close → optional purpose → policy link → agree → back to close.
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      await sendKeys({ press: 'Tab' });
      const a = deepActiveElement()!;
      seen.push(a.tagName === 'INPUT' ? 'checkbox' : a.tagName === 'A' ? 'link' : a.className);
    }
    expect(seen).to.deep.equal(['checkbox', 'link', 'primary', 'close']);
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    expect(deepActiveElement()!.className).to.equal('primary');

    const closed = oneEvent(el, 'calbridge-close');
    await sendKeys({ press: 'Escape' });
    await closed;
    expect(dialog.open).to.equal(false);
    expect(deepActiveElement()).to.equal(trigger);
  });

  it('should load the frame inside the dialog only after consent, and close with the close button', async () => {
    const el = await mount(html`<calbridge-booking tenant="demo" mode="floating"></calbridge-booking>`);
    const launcher = $(el, '[part="trigger"]')!;
    expect(getComputedStyle(launcher).position).to.equal('fixed');
    launcher.focus();
    launcher.click();
    await oneEvent(el, 'calbridge-open');
    expect($(el, 'iframe')).to.equal(null);
    await consented(el);
    await frameOf(el);
    await waitUntil(() => !$(el, '.frame > p'), 'frame not ready', { timeout: 5000 });
    await expectAccessible(el);
    const closed = oneEvent(el, 'calbridge-close');
    $(el, '.close')!.click();
    await closed;
    expect(deepActiveElement()).to.equal(launcher);
  });

  it('should end the dialog fade-in at once when the visitor consents while it runs, so nothing animates while the booking page loads', async () => {
    const el = await mount(html`<calbridge-booking tenant="demo" mode="popup"></calbridge-booking>`);
    await el.open();
    await waitUntil(() => $(el, 'dialog form button'), 'no consent form in the dialog', { timeout: 5000 });
    const dialog = $(el, 'dialog')!;
    // The fade (0.2 s) is still running when the consent click comes right after the dialog opened.
    expect(dialog.getAnimations().map((a) => a.playState)).to.deep.equal(['running']);
    $(el, 'dialog form button')!.click();
    expect($(el, 'dialog iframe'), 'frame made in the click task').to.not.equal(null);
    expect(dialog.getAnimations()).to.have.length(0);
    expect(getComputedStyle(dialog).opacity).to.equal('1');
    await oneEvent(el, 'calbridge-consent');
    el.close();
  });

  it("should open the dialog in the launcher click's task, frame the booking page in the consent key press's task, and send the session request with the same nonce once the booking page has shown itself and a frame has passed", async () => {
    const el = await mount(html`<calbridge-booking tenant="demo" mode="popup"></calbridge-booking>`);
    const trigger = $(el, '[part="trigger"]')!;
    const ready = oneEvent(el, 'calbridge-ready');
    trigger.focus();
    await ready;
    // Focus brought the chunk, which made the (closed) dialog (decision 0026).
    await waitUntil(() => $(el, 'dialog'), 'no dialog made', { timeout: 5000 });
    // The launcher's click opens the dialog with its consent step and focus in it, in its own task.
    let atClick: unknown[] = [];
    el.addEventListener('click', () => (atClick = [$(el, 'dialog')!.matches(':modal'), !!$(el, 'dialog form button'), deepActiveElement() === $(el, '.close')]), { once: true });
    await sendKeys({ press: 'Enter' });
    expect(atClick).to.deep.equal([true, true, true]);
    // The consent key press's own task makes the frame (its form's submit, after the element's handler).
    let frameAtClick: string | undefined;
    $(el, 'dialog form')!.addEventListener('submit', () => (frameAtClick = $<HTMLIFrameElement>(el, 'dialog iframe')?.src), { once: true });
    let pageLoaded = false;
    // Animation frames since the page said it had shown itself (a frame that could paint it).
    let framesSince = 0;
    const countFrames = () => requestAnimationFrame(() => (framesSince++, calls.length || countFrames()));
    const onMessage = (e: MessageEvent) => {
      if (pageLoaded || (e.data as { type?: string } | null)?.type !== 'linkReady') return;
      pageLoaded = true;
      countFrames();
    };
    addEventListener('message', onMessage);
    const calls: Array<{ frame: string | undefined; pageLoaded: boolean; framesSince: number; body: any }> = [];
    const realFetch = window.fetch;
    window.fetch = (input, init) => {
      if (String(input).endsWith('/sessions')) calls.push({ frame: $<HTMLIFrameElement>(el, 'dialog iframe')?.src, pageLoaded, framesSince, body: JSON.parse(String(init?.body)) });
      return realFetch(input, init);
    };
    try {
      const consent = oneEvent(el, 'calbridge-consent');
      $(el, 'form button')!.focus();
      await sendKeys({ press: 'Enter' });
      expect(frameAtClick, 'frame made in the click task').to.be.a('string');
      await consent;
    } finally {
      window.fetch = realFetch;
      removeEventListener('message', onMessage);
    }
    expect(calls).to.have.length(1);
    // The session request left once the booking page had shown itself (linkReady), carrying the frame's nonce.
    expect(calls[0]!.pageLoaded, 'session request after the page showed itself').to.equal(true);
    // …and after a frame that could paint it: the request's work does not compete with that frame.
    expect(calls[0]!.framesSince, 'session request after a frame since linkReady').to.be.at.least(1);
    expect(calls[0]!.frame).to.equal(frameAtClick);
    expect(new URL(frameAtClick!).searchParams.get('metadata[cb_nonce]')).to.equal(calls[0]!.body.nonce);
    await waitUntil(() => !$(el, '.frame > p'), 'frame not ready', { timeout: 5000 });
    await expectAccessible(el);
  });

  it('should send the session request when the page goes away before the booking page has loaded, and none before', async () => {
    const el = await mount(html`<calbridge-booking tenant="silentframe"></calbridge-booking>`);
    await waitUntil(() => $(el, 'form'), 'no consent form', { timeout: 5000 });
    const sessions = async () => (await fakeLog()).filter((e) => e.path === '/v1/widget/silentframe/sessions').length;
    const before = await sessions();
    const keepalive: boolean[] = [];
    const realFetch = window.fetch;
    window.fetch = (input, init) => {
      if (String(input).endsWith('/sessions')) keepalive.push(!!init?.keepalive);
      return realFetch(input, init);
    };
    try {
      $(el, 'form button')!.click();
      // The frame's page never says it has loaded: no session request yet, its frame is there.
      await frameOf(el);
      expect(keepalive).to.deep.equal([]);
      const consent = oneEvent(el, 'calbridge-consent');
      dispatchEvent(new PageTransitionEvent('pagehide'));
      await consent;
    } finally {
      window.fetch = realFetch;
    }
    expect(keepalive).to.deep.equal([true]);
    expect(await sessions()).to.equal(before + 1);
    await expectAccessible(el);
  });

  it('should open a popup whose consent the page already granted straight to the frame, focus on its close button', async () => {
    const ready = new Promise((r) => document.addEventListener('calbridge-ready', r, { once: true }));
    const el = await mount(html`<calbridge-booking tenant="demo" mode="popup"></calbridge-booking>`);
    const trigger = $(el, '[part="trigger"]')!;
    await ready;
    trigger.focus();
    const consent = oneEvent(el, 'calbridge-consent');
    el.grantConsent({ purposes: ['booking'] });
    await consent;
    const opened = oneEvent(el, 'calbridge-open');
    const reported = dimensionReported();
    await sendKeys({ press: 'Enter' });
    await opened;
    expect(deepActiveElement()).to.equal($(el, '.close'));
    await frameOf(el);
    await waitUntil(() => !$(el, '.frame > p'), 'frame not ready', { timeout: 5000 });
    // In the dialog (top layer, nothing after it to move) the box follows the page's height.
    expect(await reported).to.equal(480);
    await waitUntil(() => $(el, '.frame')!.style.height === '480px', 'dialog box does not follow the page', { timeout: 5000 });
    await expectAccessible(el);
    const closed = oneEvent(el, 'calbridge-close');
    await sendKeys({ press: 'Escape' });
    await closed;
    expect(deepActiveElement()).to.equal(trigger);
  });

  it('should show a recoverable, accessible error with the fallback slot when the tenant is unknown', async () => {
    const error = new Promise<CustomEvent>((r) => document.addEventListener('calbridge-error', r as EventListener, { once: true }));
    const el = await mount(html`<calbridge-booking tenant="nobody"><a href="https://cal.example/fallback">Book on our booking page</a></calbridge-booking>`);
    expect((await error).detail).to.deep.equal({ code: 'tenant_not_found', status: 404 });
    await waitUntil(() => $(el, '[part="error"]'));
    expect($(el, '[part="error"] p')!.textContent).to.equal('This booking page is not available.');
    expect($(el, '[part="error"] slot')).to.not.equal(null);
    expect(live(el)).to.equal('This booking page is not available.');
    await expectAccessible(el);
  });

  it('should report an unreachable server and recover on retry', async () => {
    const el = await mount(html`<calbridge-booking tenant="flaky"></calbridge-booking>`);
    await waitUntil(() => $(el, '[part="error"]'));
    expect($(el, '[part="error"] p')!.textContent).to.equal('Something went wrong.');
    const retry = $(el, '[part="error"] button')!;
    retry.focus();
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => $(el, 'form'), 'retry did not recover', { timeout: 5000 });

    const down = await mount(html`<calbridge-booking tenant="demo" server="http://127.0.0.1:9"></calbridge-booking>`);
    await waitUntil(() => $(down, '[part="error"]'));
    expect($(down, '[part="error"] p')!.textContent).to.equal('The booking service is unreachable.');
  });

  it('should show the frame failure with a plain link to the booking page', async () => {
    const el = await mount(html`<calbridge-booking tenant="brokenframe"></calbridge-booking>`);
    const error = oneEvent(el, 'calbridge-error');
    await consented(el);
    expect((await error).detail.code).to.equal('frame_failed');
    await waitUntil(() => $(el, '[part="error"]'));
    expect($(el, '[part="error"] a')!.getAttribute('href')).to.equal(`${CAL_ORIGIN}/broken/intro`);
    expect($(el, 'iframe')).to.equal(null);
    await expectAccessible(el);
  });

  it('should time out a frame that never reports ready', async () => {
    const saved = CalbridgeBooking.frameTimeout;
    CalbridgeBooking.frameTimeout = 400;
    try {
      const el = await mount(html`<calbridge-booking tenant="silentframe"></calbridge-booking>`);
      const error = oneEvent(el, 'calbridge-error');
      await consented(el);
      expect((await error).detail.code).to.equal('frame_timeout');
      await waitUntil(() => $(el, '[part="error"]'));
      expect($(el, '[part="error"] p')!.textContent).to.equal('The calendar did not load.');
    } finally {
      CalbridgeBooking.frameTimeout = saved;
    }
  });

  it('should show rate limiting from the server as its own error', async () => {
    const el = await mount(html`<calbridge-booking tenant="busy"></calbridge-booking>`);
    await waitUntil(() => $(el, 'form'));
    const error = oneEvent(el, 'calbridge-error');
    $(el, 'form button')!.click();
    expect((await error).detail).to.deep.equal({ code: 'rate_limited', status: 429 });
    await waitUntil(() => $(el, '[part="error"]'));
    expect($(el, '[part="error"] p')!.textContent).to.contain('Too many attempts');
    await expectAccessible(el);

    // Retry asks for the session again with the same consent and nonce (the frame's metadata carries it).
    const sessions = async () => (await fakeLog()).filter((e) => e.path === '/v1/widget/busy/sessions');
    const before = await sessions();
    const again = oneEvent(el, 'calbridge-error');
    $(el, '[part="error"] button')!.focus();
    await sendKeys({ press: 'Enter' });
    expect((await again).detail.code).to.equal('rate_limited');
    const [first, retried] = [before.at(-1)!, (await sessions()).at(-1)!];
    expect((await sessions()).length).to.equal(before.length + 1);
    expect(retried.body.nonce).to.equal(first.body.nonce);
    expect(retried.body.consent).to.deep.equal(first.body.consent);
  });

  it('should accept consent from the host page through grantConsent and refuse incomplete consent', async () => {
    const el = document.createElement('calbridge-booking');
    el.tenant = 'demo';
    el.grantConsent({ purposes: ['booking'], version: '2026-11-01' }); // before the config has loaded
    const consent = oneEvent(el, 'calbridge-consent');
    document.body.append(el);
    try {
      expect((await consent).detail.purposes).to.deep.equal(['booking']);
      expect($(el, 'form')).to.equal(null);
    } finally {
      el.remove();
    }

    const other = await mount(html`<calbridge-booking tenant="demo"></calbridge-booking>`);
    await waitUntil(() => $(other, 'form'));
    const error = oneEvent(other, 'calbridge-error');
    other.grantConsent({ purposes: ['marketing'] });
    expect((await error).detail.code).to.equal('consent_invalid');
    expect($(other, 'form')).to.not.equal(null);
  });

  it('should load the inline frame only once the element nears the viewport', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div>
      <div style="height: 3000px"></div>
      <calbridge-booking tenant="demo"></calbridge-booking>
    </div>`);
    const el = wrapper.querySelector('calbridge-booking')!;
    const consent = oneEvent(el, 'calbridge-consent');
    el.grantConsent({ purposes: ['booking'] });
    await consent;
    await aTimeout(300);
    expect($(el, 'iframe')).to.equal(null);
    expect($(el, '.frame')!.getBoundingClientRect().height).to.equal(700);
    el.scrollIntoView();
    await frameOf(el);
    window.scrollTo(0, 0);
  });

  it('should use the strings of its locale', async () => {
    const el = await mount(html`<calbridge-booking tenant="demo" locale="de-AT"></calbridge-booking>`);
    await waitUntil(() => $(el, 'form button')?.textContent === 'Zustimmen und Kalender anzeigen', 'German strings not applied', { timeout: 5000 });
    const fr = await fixture<HTMLDivElement>(html`<div lang="fr"><calbridge-booking tenant="demo"></calbridge-booking></div>`);
    const inner = fr.querySelector('calbridge-booking')!;
    await waitUntil(() => $(inner, 'form button')?.textContent === 'Accepter et afficher le calendrier', 'French strings not applied', { timeout: 5000 });
  });

  it('should drop the dialog animation when reduced motion is preferred', async () => {
    await emulateMedia({ reducedMotion: 'reduce' });
    try {
      const el = await mount(html`<calbridge-booking tenant="demo" mode="popup"></calbridge-booking>`);
      // No pointer or focus came first: open() loads what the dialog needs itself.
      await el.open();
      await waitUntil(() => $(el, 'dialog form'), 'no consent form in the dialog', { timeout: 5000 });
      expect(getComputedStyle($(el, 'dialog')!).animationName).to.equal('none');
      el.close();
    } finally {
      await emulateMedia({ reducedMotion: 'no-preference' });
    }
  });
});
