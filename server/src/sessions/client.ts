import { isIPv4, isIPv6 } from 'node:net';

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
