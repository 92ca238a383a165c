import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import { LitElement } from 'lit';
import type { ConsentChoice } from '../../entities/session/session.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import { CmpController } from './cmp-controller.js';

type Listener = (d: object, ok: boolean) => void;

/** A window with a TCF v2.2 CMP whose listeners the test can see and answer. */
function tcfWindow() {
  const listeners = new Map<number, Listener>();
  let next = 0;
  const win = {
    __tcfapi(command: string, _v: number, cb: Listener, id?: number) {
      if (command === 'addEventListener') {
        const listenerId = ++next;
        listeners.set(listenerId, cb);
        cb({ eventStatus: 'cmpuishown', listenerId }, true);
      } else if (command === 'removeEventListener') listeners.delete(id!);
    },
  } as unknown as Window;
  const agree = () => {
    for (const [listenerId, cb] of listeners) cb({ eventStatus: 'useractioncomplete', gdprApplies: true, listenerId, purpose: { consents: { '1': true } } }, true);
  };
  return { win, listeners, agree };
}

const config = { consent: { version: 'v1', purposes: [{ id: 'booking', required: true }, { id: 'marketing', required: false }] } } as unknown as TenantConfig;

class Host extends LitElement {}
customElements.define('test-cmp-host', Host);

describe('CmpController', () => {
  afterEach(() => fixtureCleanup());

  it('should watch the CMP while the host is connected, and again after it is added back', async () => {
    const host = await fixture<Host>(html`<test-cmp-host></test-cmp-host>`);
    const { win, listeners } = tcfWindow();
    new CmpController(host, 'tcf', config, () => {}, win);
    expect(listeners.size).to.equal(1);
    const parent = host.parentElement!;
    host.remove();
    expect(listeners.size).to.equal(0);
    parent.append(host);
    expect(listeners.size).to.equal(1);
  });

  it('should hand over consent once, with the required purposes and the source, and then stop watching', async () => {
    const host = await fixture<Host>(html`<test-cmp-host></test-cmp-host>`);
    const { win, listeners, agree } = tcfWindow();
    const seen: ConsentChoice[] = [];
    new CmpController(host, 'tcf', config, (c) => seen.push(c), win);
    agree();
    agree();
    expect(seen).to.deep.equal([{ version: 'v1', purposes: ['booking'], source: 'tcf' }]);
    expect(listeners.size).to.equal(0);
    // Stopped for good: added again, the host does not watch again.
    const parent = host.parentElement!;
    host.remove();
    parent.append(host);
    expect(listeners.size).to.equal(0);
  });

  it('should stop watching when stopped (consent came another way)', async () => {
    const host = await fixture<Host>(html`<test-cmp-host></test-cmp-host>`);
    const { win, listeners } = tcfWindow();
    const cmp = new CmpController(host, 'tcf', config, () => {}, win);
    cmp.stop();
    expect(listeners.size).to.equal(0);
  });
});
