import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { DestinationUrlInsecure, DestinationUrlPrivate } from './crm.errors.js';

/**
 * Where outbound CRM requests may go. Destinations are typed in by tenant
 * admins, so without a guard a destination could make the server call its own
 * network (SSRF). https only, and only to globally routable unicast addresses,
 * checked on the URL at registration and on every address before each connection
 * (crm.pinned-fetch.ts), literal IPs included.
 *
 * The ranges come from ipaddr.js (`range()`: loopback, private, linkLocal,
 * uniqueLocal, carrierGradeNat, reserved, multicast, 6to4, teredo, rfc6052, …),
 * not from a hand-written list (issue 13, finding 7). Only `unicast` passes.
 * Addresses that carry an IPv4 address inside are judged by it or refused:
 * IPv4-mapped (`::ffff:a.b.c.d`) by the IPv4 address; IPv4-compatible
 * (`::a.b.c.d`, deprecated by RFC 4291 §2.5.5.1, yet some stacks route it as
 * IPv4) always refused; 6to4 (`2002::/16`) and Teredo (`2001::/32`) are ranges of
 * their own, so refused whatever they embed; site-local `fec0::/10` is
 * `deprecatedSiteLocal`. Numeric host forms (`0x7f000001`, `2130706433`,
 * `0177.1`) are normalised by the URL parser, and ipaddr.js parses them the same
 * way where a resolver hands them over.
 */

/** The ipaddr.js range name an address is judged by, after unwrapping IPv4-mapped addresses; null when it is not an address. */
function addressRange(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return null;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) addr = v6.toIPv4Address();
    else if (v6.parts.slice(0, 6).every((p) => p === 0) && !(v6.parts[6] === 0 && v6.parts[7]! <= 1)) return 'ipv4Compatible';
  }
  return addr.range();
}

/** True for an address no destination may connect to: anything but global unicast. */
export function isPrivateAddress(ip: string): boolean {
  return addressRange(ip) !== 'unicast';
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  return addressRange(host) === 'loopback';
}

/** The URL's host without IPv6 brackets and without trailing dots (`localhost.` is `localhost`). */
const bareHost = (u: URL) => u.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '').toLowerCase();

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
  if (!host || (isIP(host) ? isPrivateAddress(host) : INTERNAL_NAME.test(host))) throw new DestinationUrlPrivate();
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
  if (loopbackOnly) return addresses.every((a) => isLoopback(a)) ? null : 'private_address';
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
