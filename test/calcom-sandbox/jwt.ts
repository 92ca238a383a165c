import { createHmac } from 'node:crypto';
import { randomToken } from './ids.js';

/**
 * Cal.com issues JWTs (HS256) as access/refresh tokens. Callers must treat
 * them as opaque; the sandbox signs them so they look the part, and keeps
 * every issued token in memory so revocation works. The key is per process.
 */
const KEY = randomToken(32);

export function signJwt(payload: Record<string, unknown>): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  // A random jti keeps two tokens minted in the same millisecond distinct.
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ ...payload, jti: randomToken(9) })}`;
  return `${head}.${createHmac('sha256', KEY).update(head).digest('base64url')}`;
}
