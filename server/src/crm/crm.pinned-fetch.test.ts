import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPinnedFetch, OutboundAddressRefused } from './crm.pinned-fetch.js';
import { fromThrown } from './crm.send.js';
import { startReceiver, type Receiver } from './test-support/receiver.js';

// The pinned client connects only to addresses that pass the URL policy at connect time.

const strict = { allowInsecureLoopback: false };
const loopbackAllowed = { allowInsecureLoopback: true };

let receiver: Receiver;
let port: number;
/** A bare TCP listener on 127.0.0.1 counting connections: proves nothing was even dialled. */
let listener: Server;
let connections = 0;
let listenerPort: number;

beforeAll(async () => {
  receiver = await startReceiver();
  port = Number(new URL(receiver.url).port);
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as AddressInfo).port;
});
afterAll(async () => {
  await receiver.close();
  await new Promise<void>((resolve) => listener.close(() => resolve()));
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.setHandler(() => ({ status: 204 }));
  connections = 0;
});

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundAddressRefused);
  return (err as OutboundAddressRefused).code;
}

describe('pinned CRM client', () => {
  it('when the host name resolves to a private address at connect time, then nothing is dialled and the request is refused with private_address', async () => {
    const f = createPinnedFetch({ resolveHost: async () => ['127.0.0.1'], policy: strict });
    expect(await refusal(f(`https://hook.rebind.example:${listenerPort}/x`, post))).toBe('private_address');
    expect(connections).toBe(0);
  });

  it('when one of the host name\'s addresses is private, then the request is refused with private_address', async () => {
    const f = createPinnedFetch({ resolveHost: async () => ['93.184.215.14', '10.1.2.3'], policy: strict });
    expect(await refusal(f(`https://hook.mixed.example:${listenerPort}/x`, post))).toBe('private_address');
    expect(connections).toBe(0);
  });

  it('when an IPv4-mapped IPv6 address hides a private one, then the request is refused with private_address', async () => {
    const f = createPinnedFetch({ resolveHost: async () => ['::ffff:192.168.1.9'], policy: strict });
    expect(await refusal(f('https://hook.mapped.example/x', post))).toBe('private_address');
  });

  it('when the resolver fails or answers nothing, then the request is refused with dns_failed', async () => {
    const failing = createPinnedFetch({ resolveHost: async () => Promise.reject(new Error('ENOTFOUND')), policy: strict });
    expect(await refusal(failing('https://nowhere.example/x', post))).toBe('dns_failed');
    const empty = createPinnedFetch({ resolveHost: async () => [], policy: strict });
    expect(await refusal(empty('https://nowhere.example/x', post))).toBe('dns_failed');
  });

  it('when the URL is plain http to a public host, then the request is refused with destination_url_refused', async () => {
    const f = createPinnedFetch({ resolveHost: async () => ['93.184.215.14'], policy: strict });
    expect(await refusal(f('http://crm.example.com/x', post))).toBe('destination_url_refused');
  });

  it('when a refusal reaches the delivery, then the attempt is recorded with its code', async () => {
    const f = createPinnedFetch({ resolveHost: async () => ['169.254.169.254'], policy: strict });
    const err = await f('https://metadata.example/x', post).catch((e: unknown) => e);
    expect(fromThrown(err)).toMatchObject({ ok: false, error: 'private_address', statusCode: null });
  });

  it('when a loopback host name is allowed, then it connects to the resolved address and keeps the host name in the Host header', async () => {
    const asked: string[] = [];
    receiver.setHandler(() => ({ status: 201, headers: { 'x-answer': 'yes' }, body: 'stored' }));
    const f = createPinnedFetch({ resolveHost: async (h) => (asked.push(h), ['127.0.0.1']), policy: loopbackAllowed });
    const res = await f(`http://localhost:${port}/hook?x=1`, post);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-answer')).toBe('yes');
    expect(await res.text()).toBe('stored');
    expect(asked).toEqual(['localhost']);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ method: 'POST', path: '/hook?x=1', body: '{"a":1}' });
    expect(receiver.received[0]!.headers.host).toBe(`localhost:${port}`);
  });

  it('when an allowed loopback host name resolves elsewhere, then the request is refused with private_address', async () => {
    const f = createPinnedFetch({ resolveHost: async () => ['93.184.215.14'], policy: loopbackAllowed });
    expect(await refusal(f(`http://localhost:${port}/hook`, post))).toBe('private_address');
    expect(receiver.received).toHaveLength(0);
  });

  it('when the receiver does not answer before the deadline, then the request is aborted as a timeout', async () => {
    receiver.setHandler(() => 'hang');
    const f = createPinnedFetch({ resolveHost: async () => ['127.0.0.1'], policy: loopbackAllowed });
    const err = await f(`http://127.0.0.1:${port}/slow`, { ...post, signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(fromThrown(err).error).toBe('timeout');
  });
});
