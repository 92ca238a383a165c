import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpool, SpoolFull } from './webhooks.spool.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'calbridge-spool-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const delivery = (n: number) => ({ tenantId: 't-1', tenantSlug: 'acme', receivedAt: new Date(1_700_000_000_000 + n), body: Buffer.from(`{"n":${n},"nul":"\\u0000"}`) });

describe('the webhook spool', () => {
  it('when deliveries are spooled, then they come back whole and in arrival order, and are gone once removed', () => {
    const spool = createSpool({ dir: fresh(), maxBytes: 1 << 20, now: () => 1_700_000_000_000 });
    const ids = [1, 2, 3].map((n) => spool.append(delivery(n)));
    const listed = spool.list();
    expect(listed.map((d) => d.id)).toEqual(ids);
    expect(listed.map((d) => d.body.toString())).toEqual([1, 2, 3].map((n) => delivery(n).body.toString()));
    expect(listed[0]).toMatchObject({ tenantId: 't-1', tenantSlug: 'acme', receivedAt: delivery(1).receivedAt });
    spool.remove(ids[0]!);
    expect(spool.list().map((d) => d.id)).toEqual(ids.slice(1));
    expect(spool.size().entries).toBe(2);
  });

  it('when the process restarts, then the spool reopens with what was waiting and keeps the order', () => {
    const dir = fresh();
    const first = createSpool({ dir, maxBytes: 1 << 20 });
    first.append(delivery(1));
    first.append(delivery(2));
    // A write cut short by a crash leaves only a temporary file, which is never drained.
    writeFileSync(join(dir, '.1700000000000-0000000099.json.tmp'), '{"v":1,"tena');
    const again = createSpool({ dir, maxBytes: 1 << 20 });
    expect(again.size().entries).toBe(2);
    const id = again.append(delivery(3));
    expect(again.list().map((d) => d.body.toString())).toEqual([1, 2, 3].map((n) => delivery(n).body.toString()));
    expect(again.list().at(-1)!.id).toBe(id);
  });

  it('when the spool is full, then a further delivery is refused with SpoolFull and nothing is written', () => {
    const spool = createSpool({ dir: fresh(), maxBytes: 300 });
    spool.append(delivery(1));
    expect(() => {
      for (let n = 2; n < 10; n++) spool.append(delivery(n));
    }).toThrow(SpoolFull);
    expect(spool.size().bytes).toBeLessThanOrEqual(300);
  });

  it('when two instances were given one spool directory and spool in the same millisecond, then neither entry is lost', () => {
    const dir = fresh();
    const sameMs = () => 1_700_000_000_500;
    const a = createSpool({ dir, maxBytes: 1 << 20, now: sameMs });
    const b = createSpool({ dir, maxBytes: 1 << 20, now: sameMs });
    const ids = [a.append(delivery(1)), b.append(delivery(2)), a.append(delivery(3)), b.append(delivery(4))];
    expect(new Set(ids).size).toBe(4);
    expect(a.list().map((d) => d.body.toString()).sort()).toEqual([1, 2, 3, 4].map((n) => delivery(n).body.toString()).sort());
  });

  it('when another instance on the same directory drained an entry first, then this one skips it without an error', () => {
    const dir = fresh();
    // An entry written before names carried a tag still drains.
    writeFileSync(join(dir, '1700000000000-0000000000.json'), JSON.stringify({ v: 1, tenantId: 't-1', tenantSlug: 'acme', receivedAt: new Date(1_700_000_000_000).toISOString(), body: Buffer.from('{"n":0}').toString('base64') }));
    const a = createSpool({ dir, maxBytes: 1 << 20 });
    const one = a.append(delivery(1));
    const b = createSpool({ dir, maxBytes: 1 << 20 });
    expect(b.list().map((d) => d.body.toString())).toEqual(['{"n":0}', delivery(1).body.toString()]);
    a.remove(one);
    expect(b.list().map((d) => d.id)).toEqual(['1700000000000-0000000000.json']);
    expect(() => b.setAside(one)).not.toThrow();
    expect(() => b.remove(one)).not.toThrow();
    expect(() => createSpool({ dir, maxBytes: 1 << 20 })).not.toThrow();
  });

  it('when an entry cannot be read, then it is moved aside and the rest still drain', () => {
    const dir = fresh();
    const spool = createSpool({ dir, maxBytes: 1 << 20, now: () => 1_700_000_000_001 });
    writeFileSync(join(dir, '1700000000000-0000000000.json'), 'not json');
    spool.append(delivery(1));
    expect(spool.list().map((d) => d.body.toString())).toEqual([delivery(1).body.toString()]);
    expect(readdirSync(join(dir, 'unreadable'))).toEqual(['1700000000000-0000000000.json']);
  });
});
