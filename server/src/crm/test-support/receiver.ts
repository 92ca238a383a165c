import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a local receiver got: headers and the raw body as sent. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers: a status, headers, body; or `hang` to never answer. */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/**
 * A local HTTP receiver on 127.0.0.1, port 0, for delivery tests: records
 * every request and answers as `respond` says (default 204).
 */
export async function startReceiver(respond: (r: Received, index: number) => Reply | Promise<Reply> = () => ({ status: 204 })) {
  const received: Received[] = [];
  let handler = respond;
  // The answer is async; the 'end' listener itself returns nothing (no promise for emitters to drop).
  async function answer(req: IncomingMessage, res: ServerResponse, chunks: Buffer[]): Promise<void> {
    const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    received.push(r);
    const reply = await handler(r, received.length - 1);
    if (reply === 'hang') return;
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body ?? '');
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void answer(req, res, chunks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    setHandler(h: typeof respond) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A fetch that reaches only 127.0.0.1 (the test's own receivers): the outside world stays off. */
export const loopbackOnlyFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname !== '127.0.0.1') throw new Error(`network disabled in tests: ${url.host}`);
  return fetch(input, init);
};
