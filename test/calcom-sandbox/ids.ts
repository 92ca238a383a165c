import { randomBytes } from 'node:crypto';

// Cal.com booking uids are short-uuid strings in the flickr base58 alphabet (22 chars).
const BASE58 = '123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';

/** A Cal.com-looking booking uid, e.g. `2NtaeaVcKfpmSZ4CthFdfk`. */
export function newBookingUid(): string {
  const bytes = randomBytes(22);
  let out = '';
  for (const b of bytes) out += BASE58[b % 58];
  return out;
}

/** An opaque random string, URL-safe. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
