import { expect } from '@open-wc/testing';
import { gcmGrants, tcfGrants, watchCmp } from './cmp.js';

// What gtag() pushes: its `arguments` object.
function args(..._: unknown[]): IArguments {
  // eslint-disable-next-line prefer-rest-params
  return arguments;
}

type Listener = (d: object, ok: boolean) => void;

/**
 * A window with a TCF v2.2 CMP whose listeners the test can see and answer. `confirm: 'later'`
 * answers `addEventListener` only when the test calls `answer()` (a CMP still loading).
 */
function tcfWindow(first: object = { eventStatus: 'cmpuishown' }, confirm: 'now' | 'later' = 'now') {
  const listeners = new Map<number, Listener>();
  const pending: Array<() => void> = [];
  let next = 0;
  const win = {
    __tcfapi(command: string, _v: number, cb: Listener, id?: number) {
      if (command === 'addEventListener') {
        const listenerId = ++next;
        listeners.set(listenerId, cb);
        const go = () => cb({ ...first, listenerId }, true);
        if (confirm === 'now') go();
        else pending.push(go);
      } else if (command === 'removeEventListener') listeners.delete(id!);
    },
  } as unknown as Window;
  const agree = () => {
    for (const [listenerId, cb] of listeners) cb({ eventStatus: 'useractioncomplete', gdprApplies: true, listenerId, purpose: { consents: { '1': true } } }, true);
  };
  return { win, listeners, agree, answer: () => pending.splice(0).forEach((go) => go()) };
}

describe('consent from the page consent manager', () => {
  it('should count TCF consent only once the CMP has a decision with purpose 1, or GDPR does not apply', () => {
    expect(tcfGrants({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { '1': true } } })).to.equal(true);
    expect(tcfGrants({ eventStatus: 'useractioncomplete', gdprApplies: true, purpose: { consents: { '1': true } } })).to.equal(true);
    expect(tcfGrants({ eventStatus: 'cmpuishown', gdprApplies: true, purpose: { consents: { '1': true } } })).to.equal(false);
    expect(tcfGrants({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { '1': false, '2': true } } })).to.equal(false);
    expect(tcfGrants({ eventStatus: 'tcloaded', gdprApplies: false })).to.equal(true);
    expect(tcfGrants({ eventStatus: 'tcloaded' })).to.equal(false);
  });

  it('should count Google Consent Mode only from the latest update of functionality_storage, never a default', () => {
    expect(gcmGrants([args('consent', 'default', { functionality_storage: 'granted' })])).to.equal(false);
    expect(gcmGrants([args('consent', 'update', { functionality_storage: 'granted' })])).to.equal(true);
    expect(gcmGrants([args('consent', 'update', { functionality_storage: 'granted' }), args('consent', 'update', { functionality_storage: 'denied' })])).to.equal(false);
    expect(gcmGrants([args('consent', 'update', { functionality_storage: 'granted' }), args('consent', 'update', { ad_storage: 'denied' })])).to.equal(true);
    expect(gcmGrants([{ event: 'gtm.js' }, null, 'x'])).to.equal(false);
    expect(gcmGrants(undefined)).to.equal(false);
  });

  it('should hand over a TCF grant once, and then take its listener off the CMP', () => {
    const { win, listeners, agree } = tcfWindow();
    let grants = 0;
    watchCmp('tcf', () => grants++, win);
    expect(listeners.size).to.equal(1);
    agree();
    agree();
    expect(grants).to.equal(1);
    expect(listeners.size).to.equal(0);
  });

  it('should hand over at once a decision the CMP already has (a returning visitor)', () => {
    const { win, listeners } = tcfWindow({ eventStatus: 'tcloaded', gdprApplies: true, purpose: { consents: { '1': true } } });
    let grants = 0;
    watchCmp('tcf', () => grants++, win);
    expect(grants).to.equal(1);
    expect(listeners.size).to.equal(0);
  });

  it('should leave no TCF listener behind when stopped, even one the CMP confirms only after that', () => {
    const now = tcfWindow();
    watchCmp('tcf', () => expect.fail('no grant after stop'), now.win)();
    expect(now.listeners.size).to.equal(0);

    const later = tcfWindow({ eventStatus: 'cmpuishown' }, 'later');
    const stop = watchCmp('tcf', () => expect.fail('no grant after stop'), later.win);
    stop();
    later.answer();
    expect(later.listeners.size).to.equal(0);
  });

  it('should take its listener off the CMP that replaced the stub it registered with', () => {
    // The IAB stub queues calls until the CMP loads, which then takes over `__tcfapi` and its listeners.
    const cmp = tcfWindow();
    const queued: unknown[][] = [];
    const win = { __tcfapi: (...a: unknown[]) => queued.push(a) } as unknown as Window & { __tcfapi: unknown };
    const stop = watchCmp('tcf', () => expect.fail('no grant'), win);
    win.__tcfapi = (cmp.win as unknown as { __tcfapi: unknown }).__tcfapi;
    for (const a of queued) (win.__tcfapi as (...a: unknown[]) => void)(...a);
    expect(cmp.listeners.size).to.equal(1);
    stop();
    expect(cmp.listeners.size).to.equal(0);
  });

  it('should see a Google Consent Mode update pushed later, once, and give the page its dataLayer.push back', () => {
    const dataLayer: unknown[] = [args('consent', 'default', { functionality_storage: 'denied' })];
    const push = dataLayer.push;
    const win = { dataLayer } as unknown as Window;
    let grants = 0;
    watchCmp('gcm', () => grants++, win);
    expect(grants).to.equal(0);
    dataLayer.push(args('consent', 'update', { functionality_storage: 'denied' }));
    expect(grants).to.equal(0);
    dataLayer.push(args('consent', 'update', { functionality_storage: 'granted' }));
    dataLayer.push(args('consent', 'update', { functionality_storage: 'granted' }));
    expect(grants).to.equal(1);
    expect(dataLayer.push).to.equal(push);
    // Every item reached the page's dataLayer.
    expect(dataLayer).to.have.length(4);
  });

  it('should stop acting, and leave a later wrapper in place, when stopped after the page wrapped dataLayer.push itself', () => {
    const dataLayer: unknown[] = [];
    const win = { dataLayer } as unknown as Window;
    let grants = 0;
    const stop = watchCmp('gcm', () => grants++, win);
    const ours = dataLayer.push;
    const theirs = function (this: unknown[], ...items: unknown[]) {
      return ours.apply(this, items);
    };
    dataLayer.push = theirs;
    stop();
    dataLayer.push(args('consent', 'update', { functionality_storage: 'granted' }));
    expect(grants).to.equal(0);
    expect(dataLayer.push).to.equal(theirs);
  });

  it('should watch nothing for any other kind', () => {
    const { win, listeners } = tcfWindow();
    watchCmp('other', () => expect.fail('no grant'), win);
    expect(listeners.size).to.equal(0);
    expect((win as unknown as { dataLayer?: unknown }).dataLayer).to.equal(undefined);
  });
});
