import { expect, fixture, fixtureCleanup, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import 'axe-core/axe.min.js';
import type { AxeResults, RunOptions } from 'axe-core';
import '../../../app/calbridge-booking/calbridge-booking.js';
import type { CalbridgeBooking } from '../../../app/calbridge-booking/calbridge-booking.element.js';
import { deepActiveElement } from '../../../shared/ui/focus.js';
import { addDays, pageWindow, weekStart } from '../calendar.js';
import type { CalbridgeNativeBooking } from './native-booking.element.js';

declare global {
  interface Window {
    axe: { run(context: Element, options: RunOptions): Promise<AxeResults> };
  }
}

interface LogEntry {
  method: string;
  path?: string;
  query?: string;
  body?: any;
  authorization?: string;
  idempotencyKey?: string;
}
const fakeLog = async (): Promise<LogEntry[]> => (await fetch('/__fake/log')).json();

async function expectAccessible(el: Element): Promise<void> {
  const r = await window.axe.run(el, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
  expect(r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary}`).join(', ')}`)).to.deep.equal([]);
}

const native = (el: CalbridgeBooking) => el.shadowRoot!.querySelector<CalbridgeNativeBooking>('calbridge-native-booking');
const $n = <T extends Element = HTMLElement>(el: CalbridgeBooking, sel: string) => native(el)?.shadowRoot?.querySelector<T>(sel) ?? null;
const status = (el: CalbridgeBooking) => $n(el, '[role="status"]')!.textContent.trim();
const focusedDay = () => deepActiveElement()?.getAttribute('data-day');

/** Presses Tab until `pred` holds for the focused element (keyboard only, like a visitor). */
async function tabTo(pred: (el: HTMLElement) => boolean, what: string): Promise<HTMLElement> {
  for (let i = 0; i < 30; i++) {
    await sendKeys({ press: 'Tab' });
    const a = deepActiveElement();
    if (a && pred(a)) return a;
  }
  throw new Error(`Tab never reached ${what}`);
}

/** Mounts native mode and consents with the keyboard; resolves once free times are shown. */
async function openPicker(tenant = 'native'): Promise<CalbridgeBooking> {
  const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant=${tenant} mode="native" locale="en" email="ada@example.com"></calbridge-booking>`);
  await waitUntil(() => el.shadowRoot!.querySelector('form'), 'no consent form', { timeout: 5000 });
  await tabTo((a) => a.textContent.includes('Agree'), 'the consent button');
  await sendKeys({ press: 'Enter' });
  await waitUntil(() => $n(el, 'td.free') && $n(el, '.slots button'), 'no free times', { timeout: 5000 });
  return el;
}

describe('<calbridge-booking mode="native">', () => {
  afterEach(() => fixtureCleanup());

  it('should show the slot picker only after consent, as an accessible grid with the time zone shown', async () => {
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="native" mode="native" locale="en"></calbridge-booking>`);
    await waitUntil(() => el.shadowRoot!.querySelector('form'), 'no consent form', { timeout: 5000 });
    expect(native(el)).to.equal(null);
    expect((await fakeLog()).some((e) => e.path?.endsWith('/slots'))).to.equal(false);
    el.shadowRoot!.querySelector<HTMLButtonElement>('form button')!.click();
    await waitUntil(() => $n(el, '.slots button'), 'no free times', { timeout: 5000 });

    const grid = $n(el, '[role="grid"]')!;
    expect(grid.querySelectorAll('[role="gridcell"]')).to.have.length(28);
    expect(grid.querySelectorAll('[tabindex="0"]')).to.have.length(1);
    expect($n<HTMLSelectElement>(el, 'select#tz')!.value).to.equal(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect($n(el, 'label[for="tz"]')!.textContent).to.equal('Time zone');
    // The first page came with the session, asked for by the session request after consent.
    expect((await fakeLog()).filter((e) => e.path === '/v1/widget/native/sessions').at(-1)!.body.slots.eventType).to.equal('intro');
    expect(status(el)).to.match(/free times on/);
    await expectAccessible(el);
  });

  it('should send the session request as the consent is given, before the element renders its next step', async () => {
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="native" mode="native" locale="en"></calbridge-booking>`);
    await waitUntil(() => el.shadowRoot!.querySelector('form'), 'no consent form', { timeout: 5000 });
    // Whether the consent form was still on the page when the session request left.
    const formThere: boolean[] = [];
    const realFetch = window.fetch;
    window.fetch = (input, init) => {
      if (String(input).endsWith('/sessions')) formThere.push(!!el.shadowRoot!.querySelector('form[part="consent"]'));
      return realFetch(input, init);
    };
    try {
      el.shadowRoot!.querySelector<HTMLButtonElement>('form button')!.focus();
      await sendKeys({ press: 'Enter' });
      await waitUntil(() => $n(el, '.slots button'), 'no free times', { timeout: 5000 });
    } finally {
      window.fetch = realFetch;
    }
    expect(formThere).to.deep.equal([true]);
  });

  it('should show the first page of free times the session answer carries, without asking for them again', async () => {
    const slotsAsked: string[] = [];
    const before = (await fakeLog()).length;
    const realFetch = window.fetch;
    window.fetch = (input, init) => {
      if (String(input).includes('/slots?')) slotsAsked.push(String(input));
      return realFetch(input, init);
    };
    let el: CalbridgeBooking;
    try {
      el = await openPicker();
    } finally {
      window.fetch = realFetch;
    }
    expect(slotsAsked).to.deep.equal([]);
    const log = (await fakeLog()).slice(before);
    expect(log.some((e) => e.path === '/v1/widget/native/slots')).to.equal(false);
    // The session request named the page the picker shows: the week of today, in the browser's zone.
    const asked = log.filter((e) => e.path === '/v1/widget/native/sessions').at(-1)!.body.slots;
    const firstDay = $n(el, 'td[role="gridcell"]')!.getAttribute('data-day')!;
    expect(asked).to.deep.equal({ eventType: 'intro', ...pageWindow(firstDay), timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone });
    expect($n(el, 'td.free')).to.not.equal(null);
    expect(status(el)).to.match(/free times on/);
    await expectAccessible(el);
    // The keyboard reaches the times shown from the session's answer.
    await tabTo((a) => a.getAttribute('role') === 'gridcell', 'the day grid');
    await sendKeys({ press: 'Enter' });
    expect(deepActiveElement()?.getAttribute('part')).to.equal('slot');
  });

  it('should ask for the first page of free times once, as the session answers, when the answer does not carry them', async () => {
    // Whether the picker was on the page when free times were first asked for.
    const pickerThere: boolean[] = [];
    const realFetch = window.fetch;
    window.fetch = (input, init) => {
      if (String(input).includes('/slots?')) pickerThere.push(!!document.querySelector('calbridge-booking')?.shadowRoot?.querySelector('calbridge-native-booking'));
      return realFetch(input, init);
    };
    let el: CalbridgeBooking;
    try {
      el = await openPicker('nativelate');
    } finally {
      window.fetch = realFetch;
    }
    expect(pickerThere).to.deep.equal([false]);
    const log = await fakeLog();
    const token = log.filter((e) => e.path === '/v1/widget/nativelate/slots').at(-1)!.authorization;
    // The request made before the picker rendered is the one the picker shows: no second one.
    const asked = log.filter((e) => e.path === '/v1/widget/nativelate/slots' && e.authorization === token);
    expect(asked).to.have.length(1);
    const q = new URLSearchParams(asked[0]!.query);
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(q.get('timeZone')).to.equal(tz);
    const firstDay = $n(el, 'td[role="gridcell"]')!.getAttribute('data-day')!;
    expect(q.get('start')).to.equal(pageWindow(firstDay).start);
    expect(status(el)).to.match(/free times on/);
    await expectAccessible(el);
  });

  it('should move through days with arrow keys, Home, End, PageUp and PageDown, selection following focus', async () => {
    const el = await openPicker();
    await tabTo((a) => a.getAttribute('role') === 'gridcell', 'the day grid');
    const first = focusedDay()!;
    expect(deepActiveElement()!.getAttribute('aria-selected')).to.equal('true');

    const press = async (key: string, expected: string) => {
      await sendKeys({ press: key });
      await waitUntil(() => focusedDay() === expected, `${key} did not move focus to ${expected} (at ${focusedDay()})`, { timeout: 3000 });
      expect(deepActiveElement()!.getAttribute('aria-selected')).to.equal('true');
      expect($n(el, '[role="grid"]')!.querySelectorAll('[tabindex="0"]')).to.have.length(1);
    };
    await press('ArrowRight', addDays(first, 1));
    await press('ArrowDown', addDays(first, 8));
    await press('ArrowLeft', addDays(first, 7));
    await press('ArrowUp', first);
    await press('End', addDays(weekStart(first), 6));
    await press('Home', weekStart(first));
    const before = (await fakeLog()).length;
    await press('PageDown', addDays(weekStart(first), 28));
    // The next four weeks' free times were fetched for the new page.
    const next = (await fakeLog()).slice(before).find((e) => e.path === '/v1/widget/native/slots')!;
    expect(new URLSearchParams(next.query).get('start')).to.equal(pageWindow(addDays(weekStart(first), 28)).start);
    await press('PageUp', weekStart(first));
    await expectAccessible(el);
  });

  it("should fill the time zone list once the picker shows, the visitor's zone selected throughout", async () => {
    const el = await openPicker();
    const select = $n<HTMLSelectElement>(el, 'select#tz')!;
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(select.value).to.equal(zone);
    await waitUntil(() => select.options.length > 100, 'the time zone list was not filled after the picker showed');
    expect(select.value).to.equal(zone);
    expect(select.selectedOptions[0]!.textContent).to.equal(zone.replace(/_/g, ' '));
    await expectAccessible(el);
  });

  it('should change the time zone and ask for times in it', async () => {
    const el = await openPicker();
    const select = $n<HTMLSelectElement>(el, 'select#tz')!;
    // The list is filled once the picker is painted, or when the visitor reaches it.
    select.focus();
    await waitUntil(() => select.options.length > 1, 'the time zone list was not filled');
    select.value = 'America/New_York';
    select.dispatchEvent(new Event('change'));
    await waitUntil(async () => (await fakeLog()).some((e) => e.path === '/v1/widget/native/slots' && new URLSearchParams(e.query).get('timeZone') === 'America/New_York'), 'no request in the new zone');
    await waitUntil(() => $n(el, '.slots button'), 'no free times', { timeout: 5000 });
    expect($n<HTMLSelectElement>(el, 'select#tz')!.value).to.equal('America/New_York');
    await expectAccessible(el);
  });

  it('should book with the keyboard alone: day, time, form with linked errors, then calbridge-booked', async () => {
    const el = await openPicker();
    await tabTo((a) => a.getAttribute('role') === 'gridcell', 'the day grid');
    await sendKeys({ press: 'Enter' });
    expect(deepActiveElement()!.getAttribute('part')).to.equal('slot');
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => deepActiveElement()?.id === 'name', 'focus did not move to the name field', { timeout: 3000 });
    expect($n<HTMLInputElement>(el, '#email')!.value).to.equal('ada@example.com');
    await expectAccessible(el);

    // Submitting without a name: the error is linked to the field and focus goes there.
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => $n(el, '#name-error'), 'no error shown', { timeout: 3000 });
    const name = $n<HTMLInputElement>(el, '#name')!;
    expect(name.getAttribute('aria-invalid')).to.equal('true');
    expect(name.getAttribute('aria-describedby')).to.equal('name-error');
    expect(deepActiveElement() === name, 'focus on the name field').to.equal(true);
    expect(status(el)).to.equal('Please correct the highlighted fields.');
    await expectAccessible(el);

    await sendKeys({ type: 'Ada Lovelace' });
    const booked = oneEvent(el, 'calbridge-booked');
    await sendKeys({ press: 'Enter' });
    const ev = (await booked);
    expect(ev.bubbles && ev.composed).to.equal(true);
    expect(ev.detail).to.include({ eventType: 'intro' });
    expect(ev.detail.uid).to.match(/^nb-\d+$/);
    expect(ev.detail.startTime).to.match(/T09:00:00/);

    await waitUntil(() => $n(el, '.done'), 'no confirmation', { timeout: 3000 });
    expect(deepActiveElement() === $n(el, '.done'), 'focus on the confirmation').to.equal(true);
    expect(status(el)).to.match(/^Booked: /);
    const req = (await fakeLog()).filter((e) => e.path === '/v1/widget/native/bookings').at(-1)!;
    expect(req.body.attendee).to.deep.include({ name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(req.idempotencyKey).to.match(/^[0-9a-f-]{36}$/);
    await expectAccessible(el);
  });

  it('should make one booking request when the confirm button is clicked twice', async () => {
    const el = await openPicker();
    $n<HTMLButtonElement>(el, '.slots button')!.click();
    await waitUntil(() => $n(el, 'form'), 'no form', { timeout: 3000 });
    $n<HTMLInputElement>(el, '#name')!.value = 'Grace';
    const before = (await fakeLog()).filter((e) => e.path === '/v1/widget/native/bookings').length;
    const button = $n<HTMLButtonElement>(el, 'form button')!;
    const booked = oneEvent(el, 'calbridge-booked');
    button.click();
    button.click();
    await booked;
    const after = (await fakeLog()).filter((e) => e.path === '/v1/widget/native/bookings');
    expect(after.length - before).to.equal(1);
  });

  it('should keep the form with the failure when a booking fails, and book once on retry with the same key', async () => {
    const el = await openPicker();
    $n<HTMLButtonElement>(el, '.slots button')!.click();
    await waitUntil(() => $n(el, 'form'), 'no form', { timeout: 3000 });
    $n<HTMLInputElement>(el, '#name')!.value = 'Fail Once';
    $n<HTMLButtonElement>(el, 'form button')!.focus();
    const error = oneEvent(el, 'calbridge-error');
    await sendKeys({ press: 'Enter' });
    expect((await error).detail).to.deep.equal({ code: 'server_error', status: 502 });
    await waitUntil(() => status(el) === 'The booking did not go through. Please try again.', 'failure not announced', { timeout: 3000 });
    expect($n(el, 'form .field-error')!.textContent).to.equal('The booking did not go through. Please try again.');
    expect($n(el, 'form button')!.getAttribute('aria-disabled')).to.equal('false');
    await expectAccessible(el);

    // Focus stayed on the button: Enter again retries.
    const booked = oneEvent(el, 'calbridge-booked');
    await sendKeys({ press: 'Enter' });
    await booked;
    const [failed, retried] = (await fakeLog()).filter((e) => e.path === '/v1/widget/native/bookings').slice(-2);
    expect(retried!.idempotencyKey).to.equal(failed!.idempotencyKey);
    await waitUntil(() => $n(el, '.done'), 'no confirmation', { timeout: 3000 });
  });

  it('should go back to fresh times when the chosen time was taken meanwhile', async () => {
    const el = await openPicker();
    // The fake refuses every :30 start as taken.
    const taken = [...native(el)!.shadowRoot!.querySelectorAll<HTMLButtonElement>('.slots button')][1]!;
    taken.click();
    await waitUntil(() => $n(el, 'form'), 'no form', { timeout: 3000 });
    $n<HTMLInputElement>(el, '#name')!.value = 'Grace';
    const error = oneEvent(el, 'calbridge-error');
    $n<HTMLButtonElement>(el, 'form button')!.click();
    expect(((await error)).detail.code).to.equal('calcom_rejected');
    await waitUntil(() => $n(el, '[role="grid"]'), 'not back at the picker', { timeout: 3000 });
    await waitUntil(() => /free times/.test(status(el)), 'fresh times not announced', { timeout: 3000 });
    expect(status(el)).to.match(/^That time was just taken\. Please choose another\. \d+ free times on /);
    await waitUntil(() => focusedDay(), 'focus not back in the grid', { timeout: 3000 });
  });

  it('should replace an expired session with the same consent and carry on', async () => {
    const before = (await fakeLog()).length;
    const el = await openPicker('nativeexpired');
    const log = (await fakeLog()).slice(before);
    const sessions = log.filter((e) => e.path === '/v1/widget/nativeexpired/sessions');
    expect(sessions).to.have.length(2);
    expect(sessions[1]!.body.consent).to.deep.equal(sessions[0]!.body.consent);
    const slots = log.filter((e) => e.path === '/v1/widget/nativeexpired/slots');
    expect(slots).to.have.length(2);
    expect(slots.at(-1)!.authorization).to.not.equal(slots[0]!.authorization);
    expect($n(el, '.slots button')).to.not.equal(null);
  });

  it('should refuse native mode with native_unavailable when the tenant does not offer it', async () => {
    const el = await fixture<CalbridgeBooking>(html`<calbridge-booking tenant="nonative" mode="native"></calbridge-booking>`);
    await waitUntil(() => el.shadowRoot!.querySelector('form'), 'no consent form', { timeout: 5000 });
    const error = oneEvent(el, 'calbridge-error');
    el.shadowRoot!.querySelector<HTMLButtonElement>('form button')!.click();
    expect(((await error)).detail.code).to.equal('native_unavailable');
    expect(native(el)).to.equal(null);
    await waitUntil(() => el.shadowRoot!.querySelector('[part="error"]'), 'no error shown', { timeout: 3000 });
    await expectAccessible(el);
  });
});
