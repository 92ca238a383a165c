import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { DestinationUrlPrivate } from './crm.errors.js';
import { checkDestinationUrl, isAllowedLoopback, refusedAddresses, type ResolveHost, type UrlPolicy } from './crm.url-policy.js';

/**
 * The HTTP client of CRM deliveries, closing the DNS-rebinding gap of a
 * check-then-fetch: the host is resolved once, at connect time, through the
 * injected resolver, every address is checked against the URL policy, and the
 * socket connects only to an address that passed. The Host header and the TLS
 * server name stay the destination's host name, so virtual hosting and
 * certificate checks work as with any client. Redirects are never followed.
 */

/** What the CRM senders call: `fetch` narrowed to a URL string and a plain init (global fetch fits too). */
export type OutboundFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; redirect?: 'follow' | 'error' | 'manual'; signal?: AbortSignal },
) => Promise<Response>;

/** The connection was refused before it was made; `code` is the attempt's error code. */
export class OutboundAddressRefused extends Error {
  constructor(readonly code: 'private_address' | 'dns_failed' | 'destination_url_refused') {
    super(code);
    this.name = 'OutboundAddressRefused';
  }
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** A {@link OutboundFetch} that connects only to addresses the policy allows, resolved with `resolveHost`. */
export function createPinnedFetch(opts: { resolveHost: ResolveHost; policy: UrlPolicy }): OutboundFetch {
  // Keep-alive sockets stay bound to the address they were opened to, which passed the check.
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 16 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 16 }) };

  return (raw, init) =>
    new Promise<Response>((resolve, reject) => {
      let url: URL;
      try {
        url = checkDestinationUrl(raw, opts.policy);
      } catch (err) {
        return reject(new OutboundAddressRefused(err instanceof DestinationUrlPrivate ? 'private_address' : 'destination_url_refused'));
      }
      const loopbackOnly = isAllowedLoopback(url, opts.policy);
      const lookup: LookupFunction = (hostname, options, callback) => {
        opts.resolveHost(hostname).then(
          (addresses) => {
            const refused = refusedAddresses(addresses, loopbackOnly);
            if (refused) return callback(new OutboundAddressRefused(refused), '', 0);
            const family = typeof options.family === 'number' ? options.family : 0;
            const list = addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => family === 0 || a.family === family);
            if (list.length === 0) return callback(new OutboundAddressRefused('dns_failed'), '', 0);
            if (options.all) return (callback as unknown as (err: null, all: { address: string; family: number }[]) => void)(null, list);
            callback(null, list[0]!.address, list[0]!.family);
          },
          () => callback(new OutboundAddressRefused('dns_failed'), '', 0),
        );
      };
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // A literal IP is never looked up, so it is checked here, on every request, like a resolved one.
      if (isIP(host)) {
        const refused = refusedAddresses([host], loopbackOnly);
        if (refused) return reject(new OutboundAddressRefused(refused));
      }
      const https = url.protocol === 'https:';
      const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
      const options: RequestOptions & { servername?: string } = {
        method: init.method,
        hostname: host,
        port: url.port || (https ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        // Literal IPs were checked with the URL and are not looked up; names go through the check above.
        lookup,
        signal: init.signal,
        agent: https ? agents.https : agents.http,
        ...(https && !isIP(host) ? { servername: host } : {}),
      };
      const req = (https ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        try {
          const headers = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          const status = res.statusCode ?? 0;
          const noBody = NULL_BODY.has(status) || init.method === 'HEAD';
          if (noBody) res.resume();
          const stream = noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
          resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers }));
        } catch (err) {
          res.destroy();
          reject(err);
        }
      });
      // Last line of defence: the address the socket actually connected to passes the same check.
      req.on('socket', (socket) => {
        socket.once('connect', () => {
          const remote = socket.remoteAddress;
          const refused = remote ? refusedAddresses([remote], loopbackOnly) : 'private_address';
          if (refused) req.destroy(new OutboundAddressRefused(refused));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
}
