import { BlockList, isIP } from 'node:net';
import { DestinationUrlInsecure, DestinationUrlPrivate } from './crm.errors.js';

/**
 * Where outbound CRM requests may go. Destinations are typed in by tenant
 * admins, so without a guard a destination could make the server call its own
 * network (SSRF). https only; no private, loopback, link-local, CGNAT,
 * multicast or reserved addresses, checked on the URL at registration and on
 * the resolved addresses before each request.
 */

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

function embeddedV4(ip: string): string | null {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : null;
}

/** True for an address no destination may resolve to. */
export function isPrivateAddress(ip: string): boolean {
  const v4 = embeddedV4(ip);
  if (v4) return isPrivateAddress(v4);
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family === 6) return blocked.check(ip, 'ipv6');
  return true;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family === 4 ? loopback.check(host, 'ipv4') : family === 6 ? loopback.check(host, 'ipv6') : false;
}

const bareHost = (u: URL) => u.hostname.replace(/^\[|\]$/g, '').toLowerCase();

/** Host names that only ever mean "this machine" or an internal network. */
const INTERNAL_NAME = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/;

export interface UrlPolicy {
  /** DANGEROUS outside tests: allow http://127.0.0.1, http://[::1], http://localhost. */
  allowInsecureLoopback: boolean;
}

/** True when the URL is a loopback http URL the policy lets through (then no address check applies). */
export function isAllowedLoopback(url: URL, policy: UrlPolicy): boolean {
  return policy.allowInsecureLoopback && isLoopback(bareHost(url));
}

/** Checks a destination URL as typed; throws `destination_url_insecure` or `destination_url_private`. */
export function checkDestinationUrl(raw: string, policy: UrlPolicy): URL {
  const url = new URL(raw);
  if (url.username || url.password) throw new DestinationUrlInsecure('Destination URLs may not carry credentials.');
  if (isAllowedLoopback(url, policy)) return url;
  if (url.protocol !== 'https:') throw new DestinationUrlInsecure();
  const host = bareHost(url);
  if (isIP(host) ? isPrivateAddress(host) : INTERNAL_NAME.test(host)) throw new DestinationUrlPrivate();
  return url;
}

/** Resolves a host name to its addresses (all families). Injected so tests need no DNS. */
export type ResolveHost = (host: string) => Promise<string[]>;

/**
 * Before each attempt: the URL still passes the policy and none of its
 * host's addresses is private. Returns an error code, or null when allowed.
 * This early check gives a clear error code before anything is sent; what
 * closes the rebinding gap (a resolver answering differently a moment later)
 * is the pinned client (crm.pinned-fetch.ts), which checks the addresses it
 * connects to with {@link refusedAddresses}.
 */
export async function checkTarget(raw: string, policy: UrlPolicy, resolve: ResolveHost, signal?: AbortSignal): Promise<string | null> {
  let url: URL;
  try {
    url = checkDestinationUrl(raw, policy);
  } catch {
    return 'destination_url_refused';
  }
  if (isAllowedLoopback(url, policy)) return null;
  const host = bareHost(url);
  if (isIP(host)) return null;
  let addresses: string[];
  try {
    addresses = await untilAborted(resolve(host), signal);
  } catch (err) {
    return signal?.aborted && err === signal.reason ? 'timeout' : 'dns_failed';
  }
  return refusedAddresses(addresses, false);
}

/**
 * The error code when a host's addresses may not be connected to, else null:
 * none resolved, or any of them private (or, for a loopback URL the policy
 * lets through, any of them not loopback).
 */
export function refusedAddresses(addresses: string[], loopbackOnly: boolean): 'private_address' | 'dns_failed' | null {
  if (addresses.length === 0) return 'dns_failed';
  if (loopbackOnly) return addresses.every((a) => isLoopback(embeddedV4(a) ?? a)) ? null : 'private_address';
  return addresses.some(isPrivateAddress) ? 'private_address' : null;
}

/** The promise, or the signal's reason once it fires first (a resolver cannot be cancelled, only stopped waiting for). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
