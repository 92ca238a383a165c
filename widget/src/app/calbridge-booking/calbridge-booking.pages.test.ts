// <calbridge-booking> on the pages it gets pasted into: consent managers (TCF, Google Consent
// Mode), prefill and attribution from the page URL, reschedules inside the frame, two elements
// on one page, and the element inside another component's shadow root.
import { expect, fixture, fixtureCleanup, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import 'axe-core/axe.min.js';
import type { AxeResults, RunOptions } from 'axe-core';
import './calbridge-booking.js';
import type { CalbridgeBooking } from './calbridge-booking.element.js';
import { frameOrigin } from '../../features/embed/frame-url.js';

declare global {
  interface Window {
    axe: { run(context: Element, options: RunOptions): Promise<AxeResults> };
    __tcfapi?: unknown;
    dataLayer?: unknown[];
  }
}

const CAL_ORIGIN = `http://127.0.0.1:${location.port}`;
const fakeLog = async (): Promise<Array<{ path?: string; body?: any }>> => (await fetch('/__fake/log')).json();
const lastSession = async (tenant = 'demo') => (await fakeLog()).filter((e) => e.path === `/v1/widget/${tenant}/sessions`).at(-1)!.body;
const $ = <T extends Element = HTMLElement>(el: CalbridgeBooking, sel: string) => el.shadowRoot!.querySelector<T>(sel);

async function expectAccessible(el: Element): Promise<void> {
  for (const a of el.shadowRoot!.getAnimations()) a.finish();
  const r = await window.axe.run(el, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
  expect(r.violations.map((v) => v.id)).to.deep.equal([]);
}

const frameOf = async (el: CalbridgeBooking): Promise<HTMLIFrameElement> => {
  await waitUntil(() => $(el, 'iframe'), 'no frame', { timeout: 5000 });
  return $<HTMLIFrameElement>(el, 'iframe')!;
};
const ready = (el: CalbridgeBooking) => waitUntil(() => $(el, 'iframe') && !$(el, '.frame > p'), 'frame not ready', { timeout: 5000 });

const message = (ns: string, type: string, uid: string) => ({
  originator: 'CAL',
  type,
  namespace: ns,
  fullType: `CAL:${ns}:${type}`,
  data: { uid, startTime: '2026-12-02T10:00:00.000Z', endTime: '2026-12-02T10:30:00.000Z', eventTypeId: 7, status: 'ACCEPTED', paymentRequired: false, isRecurring: false },
});
/** A message as the framed page would post it (synthetic: same origin and source checks apply). */
const fromFrame = (frame: HTMLIFrameElement, data: unknown, origin = CAL_ORIGIN) =>
  window.dispatchEvent(new MessageEvent('message', { origin, source: frame.contentWindow, data }));

/** A minimal IAB TCF v2.2 CMP: `addEventListener` answers now and on every later decision. */
function installTcf(initial: { eventStatus: string; purpose1: boolean }) {
  const listeners = new Map<number, (d: unknown, ok: boolean) => void>();
  let next = 1;
  const data = (s: { eventStatus: string; purpose1: boolean }, listenerId: number) => ({
    tcString: 'CP',
    gdprApplies: true,
    eventStatus: s.eventStatus,
    listenerId,
    purpose: { consents: { '1': s.purpose1 }, legitimateInterests: {} },
  });
  window.__tcfapi = (command: string, version: number, cb: (d: unknown, ok: boolean) => void, param?: number) => {
    if (version !== 2) return cb(false, false);
    if (command === 'addEventListener') {
      const id = next++;
      listeners.set(id, cb);
      cb(data(initial, id), true);
    } else if (command === 'removeEventListener') {
      cb(listeners.delete(param!), true);
    }
  };
  return {
    listeners,
    decide: (s: { eventStatus: string; purpose1: boolean }) => {
      for (const [id, cb] of listeners) cb(data(s, id), true);
    },
  };
}

describe('<calbridge-booking> on real pages', () => {
  afterEach(() => {
    fixtureCleanup();
    delete window.__tcfapi;
    delete window.dataLayer;
  });

  it('should frame the app origin Cal.com frames for https://cal.com, and check messages against it', () => {
    // embed-core (embed.ts) rewrites https://cal.com to https://app.cal.com before framing.
    expect(frameOrigin('https://cal.com')).to.equal('https://app.cal.com');
    expect(frameOrigin('https://cal.com/')).to.equal('https://app.cal.com');
    expect(frameOrigin('https://cal.example.org')).to.equal('https://cal.example.org');
    expect(frameOrigin(CAL_ORIGIN)).to.equal(CAL_ORIGIN);
  });

  it('should report a reschedule made inside the frame as a booking that replaces the one before', async () => {
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo"></calbridge-booking>`);
    el.grantConsent({ purposes: ['booking'] });
    const frame = await frameOf(el);
    await ready(el);
    const ns = new URL(frame.src).searchParams.get('embed')!;

    const first = oneEvent(el, 'calbridge-booked');
    fromFrame(frame, message(ns, 'bookingSuccessfulV2', 'bk-old'));
    expect((await first).detail).to.include({ uid: 'bk-old', rescheduled: false, rescheduledFromUid: null });

    // A forged reschedule from another origin is dropped; the real one is reported.
    fromFrame(frame, message(ns, 'rescheduleBookingSuccessfulV2', 'bk-forged'), 'https://evil.example');
    const second = oneEvent(el, 'calbridge-booked');
    fromFrame(frame, message(ns, 'rescheduleBookingSuccessfulV2', 'bk-new'));
    const { detail } = await second;
    expect(detail).to.deep.equal({
      uid: 'bk-new',
      startTime: '2026-12-02T10:00:00.000Z',
      endTime: '2026-12-02T10:30:00.000Z',
      eventType: 'intro',
      rescheduled: true,
      rescheduledFromUid: 'bk-old',
    });
    const observed = (await fakeLog()).filter((e) => e.path === '/v1/widget/demo/bookings/observed').map((e) => e.body.uid);
    expect(observed).to.include('bk-new');
    expect(observed).to.not.include('bk-forged');
  });

  it('should take consent from an IAB TCF v2.2 CMP once the visitor agrees there, recording the source', async () => {
    const cmp = installTcf({ eventStatus: 'cmpuishown', purpose1: false });
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo" consent="tcf"></calbridge-booking>`);
    // Until the CMP has a decision the widget's own consent step stays, usable and accessible.
    await waitUntil(() => $(el, 'form'), 'no consent form', { timeout: 5000 });
    await expectAccessible(el);
    expect(cmp.listeners.size).to.equal(1);

    const consent = oneEvent(el, 'calbridge-consent');
    cmp.decide({ eventStatus: 'useractioncomplete', purpose1: true });
    const { detail } = await consent;
    expect(detail).to.include({ source: 'tcf', version: '2026-11-01' });
    expect(detail.purposes).to.deep.equal(['booking']);
    expect((await lastSession()).consent).to.deep.equal({ version: '2026-11-01', purposes: ['booking'], source: 'tcf' });
    await frameOf(el);
    // Consent given: the element stops listening to the CMP.
    expect(cmp.listeners.size).to.equal(0);
  });

  it('should keep its own consent step when the TCF CMP says no, and stop listening when removed', async () => {
    const cmp = installTcf({ eventStatus: 'tcloaded', purpose1: false });
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo" consent="tcf"></calbridge-booking>`);
    await waitUntil(() => $(el, 'form'), 'no consent form', { timeout: 5000 });
    expect(cmp.listeners.size).to.equal(1);
    el.remove();
    expect(cmp.listeners.size).to.equal(0);
  });

  it('should frame the booking page without a click for a returning visitor whose TCF CMP already has consent', async () => {
    const cmp = installTcf({ eventStatus: 'tcloaded', purpose1: true });
    const consent = oneEvent(document, 'calbridge-consent');
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo" consent="tcf"></calbridge-booking>`);
    await frameOf(el);
    expect((await consent).detail).to.include({ source: 'tcf', version: '2026-11-01' });
    expect((await lastSession()).consent).to.deep.equal({ version: '2026-11-01', purposes: ['booking'], source: 'tcf' });
    expect(cmp.listeners.size).to.equal(0);
    await ready(el);
    await expectAccessible(el);
  });

  it('should frame the booking page without a click when Google Consent Mode was already updated to granted', async () => {
    window.dataLayer = [];
    // eslint-disable-next-line prefer-rest-params
    const gtag = function (..._: unknown[]) { window.dataLayer!.push(arguments); };
    gtag('consent', 'default', { functionality_storage: 'denied' });
    gtag('consent', 'update', { functionality_storage: 'granted' });
    const push = window.dataLayer.push;
    const consent = oneEvent(document, 'calbridge-consent');
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo" consent="gcm"></calbridge-booking>`);
    await frameOf(el);
    expect((await consent).detail.source).to.equal('gcm');
    expect((await lastSession()).consent.source).to.equal('gcm');
    expect(window.dataLayer.push).to.equal(push);
  });

  it('should watch the TCF CMP again when added back to the page, and still take a keyboard consent', async () => {
    const cmp = installTcf({ eventStatus: 'cmpuishown', purpose1: false });
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo" consent="tcf"></calbridge-booking>`);
    await waitUntil(() => $(el, 'form'), 'no consent form', { timeout: 5000 });
    const parent = el.parentElement!;
    el.remove();
    expect(cmp.listeners.size).to.equal(0);
    parent.append(el);
    await waitUntil(() => cmp.listeners.size === 1, 'not watching the CMP again', { timeout: 5000 });
    // The visitor answers in the element instead: one consent, from the widget, and the CMP is let go.
    await expectAccessible(el);
    const consent = oneEvent(el, 'calbridge-consent');
    $(el, 'form button')!.focus();
    await sendKeys({ press: 'Enter' });
    expect((await consent).detail.source).to.equal('widget');
    expect(cmp.listeners.size).to.equal(0);
    await frameOf(el);
  });

  it('should take consent from Google Consent Mode once an update grants functionality storage', async () => {
    window.dataLayer = [];
    // gtag() as Google's snippet defines it: it pushes its arguments object.
    // eslint-disable-next-line prefer-rest-params
    const gtag = function (..._: unknown[]) { window.dataLayer!.push(arguments); };
    gtag('consent', 'default', { functionality_storage: 'granted', ad_storage: 'denied' });
    const push = window.dataLayer.push;
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo" consent="gcm"></calbridge-booking>`);
    // A default is the site's assumption, not the visitor's choice: the consent step stays.
    await waitUntil(() => $(el, 'form'), 'no consent form', { timeout: 5000 });
    gtag('consent', 'update', { functionality_storage: 'denied' });
    expect($(el, 'form')).to.not.equal(null);

    const consent = oneEvent(el, 'calbridge-consent');
    gtag('consent', 'update', { functionality_storage: 'granted' });
    expect((await consent).detail.source).to.equal('gcm');
    expect((await lastSession()).consent.source).to.equal('gcm');
    // Nothing of ours is left on the page's dataLayer.
    expect(window.dataLayer.push).to.equal(push);
  });

  it('should prefill and attribute from the page URL into the frame and the session', async () => {
    const before = location.href;
    history.replaceState(null, '', `${location.pathname}?name=Grace%20Hopper&email=grace%40example.com&utm_source=news&utm_campaign=winter&gclid=G-123&fbclid=FB-456`);
    try {
      const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="demo" email="attr@example.com"></calbridge-booking>`);
      const consented = oneEvent(el, 'calbridge-consent');
      el.grantConsent({ purposes: ['booking'] });
      const src = new URL((await frameOf(el)).src);
      // The session request follows the frame (once its page has shown itself).
      await consented;
      expect(src.searchParams.get('name')).to.equal('Grace Hopper');
      // The element's attribute wins over the URL.
      expect(src.searchParams.get('email')).to.equal('attr@example.com');
      expect(src.searchParams.get('utm_source')).to.equal('news');
      expect(src.searchParams.get('metadata[cb_utm_campaign]')).to.equal('winter');
      expect(src.searchParams.get('metadata[cb_gclid]')).to.equal('G-123');
      expect(src.searchParams.get('metadata[cb_fbclid]')).to.equal('FB-456');
      const body = await lastSession();
      expect(body.context.clickIds).to.deep.equal({ gclid: 'G-123', fbclid: 'FB-456' });
      expect(body.context.utm).to.deep.equal({ source: 'news', campaign: 'winter' });
      expect(src.searchParams.get('metadata[cb_nonce]')).to.equal(body.nonce);
      // The page URL sent to the server has no query (it may hold personal data).
      expect(body.context.pageUrl).to.equal(location.origin + location.pathname);
    } finally {
      history.replaceState(null, '', before);
    }
  });

  it('should run two elements on one page, each with its own frame, namespace and bookings', async () => {
    const page = await fixture<HTMLDivElement>(html`<div>
      <calbridge-booking tenant="demo" id="a"></calbridge-booking>
      <calbridge-booking tenant="demo" id="b"></calbridge-booking>
    </div>`);
    const [a, b] = [...page.querySelectorAll('calbridge-booking')];
    a!.grantConsent({ purposes: ['booking'] });
    b!.grantConsent({ purposes: ['booking'] });
    const [fa, fb] = [await frameOf(a!), await frameOf(b!)];
    await Promise.all([ready(a!), ready(b!)]);
    const [na, nb] = [fa, fb].map((f) => new URL(f.src).searchParams.get('embed')!);
    expect(na).to.not.equal(nb);
    expect(new URL(fa.src).searchParams.get('metadata[cb_nonce]')).to.not.equal(new URL(fb.src).searchParams.get('metadata[cb_nonce]'));

    let bookedOnA = 0;
    a!.addEventListener('calbridge-booked', () => bookedOnA++);
    const onB = oneEvent(b!, 'calbridge-booked');
    // B's namespace from A's frame is not B's booking; from B's frame it is.
    fromFrame(fa, message(nb!, 'bookingSuccessfulV2', 'bk-cross'));
    fromFrame(fb, message(nb!, 'bookingSuccessfulV2', 'bk-b'));
    expect((await onB).detail.uid).to.equal('bk-b');
    expect(bookedOnA).to.equal(0);
  });

  it("should work inside another component's shadow root, with the keyboard, and its events reach the page", async () => {
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const root = host.attachShadow({ mode: 'open' });
    root.innerHTML = '<section><calbridge-booking tenant="demo"></calbridge-booking></section>';
    const el = root.querySelector('calbridge-booking')!;
    await waitUntil(() => $(el, 'form button'), 'no consent form', { timeout: 5000 });
    await expectAccessible(el);
    const consentOnPage = oneEvent(document, 'calbridge-consent');
    $(el, 'form button')!.focus();
    await sendKeys({ press: 'Enter' });
    expect((await consentOnPage).detail.source).to.equal('widget');
    const frame = await frameOf(el);
    await ready(el);
    const booked = oneEvent(document, 'calbridge-booked');
    fromFrame(frame, message(new URL(frame.src).searchParams.get('embed')!, 'bookingSuccessfulV2', 'bk-shadow'));
    expect((await booked).detail.uid).to.equal('bk-shadow');
  });
});
