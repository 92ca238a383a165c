import { expect } from '@open-wc/testing';
import { AsyncState } from './async-state.js';

const host = () => {
  const h = { updates: 0, addController() {}, removeController() {}, requestUpdate() { h.updates += 1; }, updateComplete: Promise.resolve(true) };
  return h;
};

describe('AsyncState', () => {
  it('should move from initial through pending to complete and render each state', async () => {
    const h = host();
    const s = new AsyncState<number>(h);
    const r = { initial: () => 'i', pending: () => 'p', complete: (v: number) => `c${v}`, error: () => 'e' };
    expect(s.render(r)).to.equal('i');
    const run = s.run(async () => 42);
    expect(s.render(r)).to.equal('p');
    await run;
    expect(s.render(r)).to.equal('c42');
    expect(h.updates).to.equal(2);
  });

  it('should abort a run superseded by a newer one and ignore its late result', async () => {
    const s = new AsyncState<string>(host());
    let firstSignal: AbortSignal | undefined;
    let release!: (v: string) => void;
    const first = s.run((signal) => {
      firstSignal = signal;
      return new Promise((r) => (release = r));
    });
    await s.run(async () => 'second');
    release('first');
    await first;
    expect(firstSignal!.aborted).to.equal(true);
    expect(s.value).to.equal('second');
  });

  it('should keep the error and call the error callback', async () => {
    const seen: unknown[] = [];
    const s = new AsyncState<string>(host(), { error: (e) => seen.push(e) });
    const boom = new Error('boom');
    await s.run(async () => {
      throw boom;
    });
    expect([s.state, s.failed, seen[0]]).to.deep.equal([{ status: 'failed', error: boom }, true, boom]);
  });
});
