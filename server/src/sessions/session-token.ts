import { hkdfSync } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { SessionScope } from '@calbridge/shared';
import { SessionExpired, SessionInvalid } from './sessions.errors.js';

/** What a widget session token says. */
export interface SessionClaims {
  sessionId: string;
  consentReceiptId: string;
  tenantId: string;
  /** The page origin the token is bound to. */
  origin: string;
  scopes: SessionScope[];
  expiresAt: Date;
}

const ALG = 'HS256';
const ISSUER = 'calbridge';

/**
 * Signs and verifies widget session tokens (JWT, HS256 via jose). Keys are derived with HKDF
 * from the encryption key ring, so they rotate with it: the newest key signs (its id is the
 * `kid`), every key verifies. The audience is the tenant id.
 */
export function createSessionTokens(keys: { id: string; key: Buffer }[]) {
  const derived = new Map(
    keys.map((k) => [k.id, new Uint8Array(hkdfSync('sha256', k.key, Buffer.alloc(0), 'calbridge widget session token v1', 32))]),
  );
  const current = keys[0]!.id;

  return {
    async sign(c: SessionClaims, now: Date): Promise<string> {
      return new SignJWT({ rid: c.consentReceiptId, origin: c.origin, scope: c.scopes.join(' ') })
        .setProtectedHeader({ alg: ALG, kid: current, typ: 'calbridge-session+jwt' })
        .setIssuer(ISSUER)
        .setSubject(c.sessionId)
        .setAudience(c.tenantId)
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .setExpirationTime(Math.floor(c.expiresAt.getTime() / 1000))
        .sign(derived.get(current)!);
    },

    /** Verifies signature and expiry against `now`; audience and origin are checked by the caller, each with its own code. */
    async verify(token: string, now: Date): Promise<SessionClaims> {
      try {
        const { payload } = await jwtVerify(
          token,
          async (header) => {
            const key = header.kid ? derived.get(header.kid) : undefined;
            if (!key) throw new SessionInvalid();
            return key;
          },
          { issuer: ISSUER, algorithms: [ALG], currentDate: now, typ: 'calbridge-session+jwt' },
        );
        const { sub, aud, rid, origin, scope, exp } = payload as Record<string, unknown>;
        if (typeof sub !== 'string' || typeof aud !== 'string' || typeof rid !== 'string' || typeof origin !== 'string' || typeof scope !== 'string' || typeof exp !== 'number')
          throw new SessionInvalid();
        return {
          sessionId: sub,
          tenantId: aud,
          consentReceiptId: rid,
          origin,
          scopes: scope.split(' ').filter(Boolean) as SessionScope[],
          expiresAt: new Date(exp * 1000),
        };
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new SessionExpired();
        if (err instanceof SessionInvalid) throw err;
        throw new SessionInvalid(err);
      }
    },
  };
}
