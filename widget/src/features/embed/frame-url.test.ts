// Parity with Cal.com's own embed: the real @calcom/embed-core 1.5.3 (a devDependency for this
// test only; the widget does not ship it) runs in this page beside our code, and both must
// frame the same URL for the same config. When embed-core changes how it builds the URL, this
// test fails and shows the difference.
import { expect, waitUntil } from '@open-wc/testing';
import { bookingMetadata, embedConfig } from './embed-config.js';
import { EmbedSession } from './embed-session.js';
import { frameOrigin, frameUrl } from './frame-url.js';

interface CalStub {
  (...args: unknown[]): void;
  q: unknown[];
  ns: Record<string, (...args: unknown[]) => void>;
}

// The fake Cal.com page (test/fake-bff.mjs) on another origin: the same server as 127.0.0.1.
const CAL_ORIGIN = `http://127.0.0.1:${location.port}`;
let n = 0;

/** Cal.com's snippet stub, then embed-core itself, once for this page. */
const embedCore = (async (): Promise<CalStub> => {
  const cal = function (...args: unknown[]) {
    if (args[0] === 'init' && typeof args[1] === 'string') {
      const ns = args[1];
      const api = (cal.ns[ns] ??= Object.assign((...a: unknown[]) => void (api as unknown as CalStub).q.push(a), { q: [] as unknown[] }));
      (api as unknown as CalStub).q.push(args);
      cal.q.push(['initNamespace', ns]);
      return;
    }
    cal.q.push(args);
  } as CalStub;
  cal.q = [];
  cal.ns = {};
  (window as unknown as { Cal: CalStub }).Cal = cal;
  await import('@calcom/embed-core');
  return cal;
})();

/** The iframe embed-core makes for `Cal.ns[ns]("inline", …)` in `container`. */
async function embedCoreFrame(calOrigin: string, calLink: string, config: Record<string, string>, container: HTMLElement, ns = `parity${++n}`): Promise<HTMLIFrameElement> {
  const Cal = await embedCore;
  Cal('init', ns, { origin: calOrigin });
  // embed-core writes into the config it is given (embedType): give it a copy.
  Cal.ns[ns]!('inline', { elementOrSelector: container, calLink, config: { ...config } });
  return container.querySelector('iframe')!;
}

/** A box in the page with `color-scheme` set (CSSOM), like the element's frame box. */
function box(colorScheme: string | null): HTMLElement {
  const d = document.createElement('div');
  if (colorScheme) d.style.colorScheme = colorScheme;
  document.body.append(d);
  return d;
}

const link = {
  tenant: 'acme',
  nonce: 'N'.repeat(43),
  utm: { source: 'news letter', medium: 'e-mail', campaign: 'winter & spring', term: 'a=b', content: 'ü+✓' },
  clickIds: { gclid: 'G-1', fbclid: 'fb.1.2' },
};

describe('frame URL parity with @calcom/embed-core 1.5.3', () => {
  afterEach(() => {
    for (const f of document.querySelectorAll('iframe')) f.closest('div')?.remove();
  });

  const cases: Array<[string, string | null, Record<string, string>, string]> = [
    ['the config the element builds, dark box', 'dark', embedConfig({ link, name: 'Ada Lovelace', email: 'ada+1@example.com', theme: 'dark' }), 'fake/intro'],
    ['light box, no theme', 'light', embedConfig({ link, name: 'Grace', email: null, theme: 'auto' }), 'fake/intro'],
    ['a box following the page (light dark)', 'light dark', embedConfig({ link }), 'fake/intro'],
    ['no color-scheme at all', null, { name: 'O\'Brien "the" <first>', 'metadata[calbridge_tenant]': 'acme' }, 'fake/intro'],
    ['a link already ending in /embed', 'dark', { email: 'x@example.com' }, 'fake/intro/embed'],
    ['a team link with a query', 'light', bookingMetadata(link), 'team/fake/intro?duration=30'],
  ];
  for (const [name, scheme, config, calLink] of cases)
    it(`should build the URL embed-core builds: ${name}`, async () => {
      const container = box(scheme);
      const theirs = await embedCoreFrame(CAL_ORIGIN, calLink, config, container);
      const ns = new URL(theirs.src).searchParams.get('embed')!;
      const ours = frameUrl({ calOrigin: CAL_ORIGIN, calLink, namespace: ns, config, colorScheme: getComputedStyle(container).colorScheme });
      expect(ours).to.equal(theirs.src);
      expect(theirs.name).to.equal(`cal-embed=${ns}`);
    });

  it('should rewrite https://cal.com to https://app.cal.com as embed-core does, and check messages against that origin', async () => {
    // A box outside the document: embed-core builds the frame but it never loads.
    const container = document.createElement('div');
    const theirs = await embedCoreFrame('https://cal.com', 'someone/intro', { name: 'Ada' }, container);
    const ns = new URL(theirs.src).searchParams.get('embed')!;
    expect(frameUrl({ calOrigin: 'https://cal.com', calLink: 'someone/intro', namespace: ns, config: { name: 'Ada' }, colorScheme: '' })).to.equal(theirs.src);
    expect(frameOrigin('https://cal.com')).to.equal(new URL(theirs.src).origin);
    expect(frameOrigin('https://cal.example.org')).to.equal('https://cal.example.org');
  });

  it('should frame, from the element side, what embed-core frames for the same element config, and finish the handshake', async () => {
    const mine = box('dark');
    const session = new EmbedSession(
      {
        calOrigin: CAL_ORIGIN,
        calLink: 'fake/intro',
        link: { tenant: 'acme', nonce: link.nonce },
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        theme: 'dark',
        report: { server: location.origin, tenant: 'acme', session: () => new Promise(() => {}), consent: { version: 'v', purposes: ['booking'], source: 'widget' }, eventType: 'intro' },
        frameTitle: 'Booking calendar',
        timeout: 10_000,
      },
      { resize: () => {}, booked: () => {}, failed: () => {} },
    );
    // embed-core frames the same namespace first, on the same origin (it throws on messages of a
    // namespace it does not know, so it must know ours): its frame's messages reach our
    // listener too; only our own frame's count, and our frame is shown only after its handshake.
    const config = embedConfig({ link: { ...link, utm: {}, clickIds: {} }, name: 'Ada Lovelace', email: 'ada@example.com', theme: 'dark' });
    const theirs = await embedCoreFrame(CAL_ORIGIN, 'fake/intro', config, box('dark'), session.namespace);
    // Resolves only on linkReady, which the fake page (like Cal.com's) sends only after the
    // parent's parentKnowsIframeReady.
    await session.mount(mine, new AbortController().signal);
    const ours = mine.querySelector('iframe')!;
    expect(ours.style.visibility).to.equal('');
    expect(ours.src).to.equal(theirs.src);
    expect([ours.name, ours.className]).to.deep.equal([theirs.name, theirs.className]);
    session.dispose();
    await waitUntil(() => !mine.querySelector('iframe'), 'frame not removed');
  });
});
