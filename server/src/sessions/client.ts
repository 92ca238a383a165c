import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The client address kept in a consent receipt and used for rate limits: IPv4 cut to its
 * /24, IPv6 to its /48 (RFC 6177's site prefix), so no receipt holds a full address.
 */
export function truncateIp(ip: string | undefined): string {
  const addr = (ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (isIPv4(addr)) return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(addr)) {
    const [head = '', tail = ''] = addr.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return `${groups.slice(0, 3).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/48`;
  }
  return 'unknown';
}

const FAMILIES: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChrom(?:e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bSafari\//, 'Safari'],
  [/bot|crawl|spider|HeadlessChrome/i, 'Bot'],
];

/** The browser family of a user-agent string, never the string itself. */
export function userAgentFamily(ua: string | undefined): string {
  if (!ua) return 'unknown';
  if (/HeadlessChrome/.test(ua)) return 'Headless Chrome';
  return FAMILIES.find(([re]) => re.test(ua))?.[1] ?? 'other';
}

/**
 * The client address as rate limits count it (issue 13, finding 2): an IPv4 address by itself
 * (IPv4-mapped IPv6 too), an IPv6 address by its /64, the smallest prefix one subscriber is
 * normally given (RFC 6177), so rotating through one's own /64 gives no new budget.
 */
export function rateLimitAddress(ip: string | undefined): string {
  if (!ip || !ipaddr.isValid(ip)) return 'unknown';
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toNormalizedString()}/64`;
}
