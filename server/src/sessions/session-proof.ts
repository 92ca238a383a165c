import { CALBRIDGE_NONCE_METADATA_KEY, SessionNonce } from '@calbridge/shared';
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../crypto/tokens.js';
import type { Tx } from '../db/db.js';
import { findSessionByNonceHash } from './sessions.repository.js';

/** The widget session a booking is proven to have come through. */
export interface ProvenSession {
  sessionId: string;
  consentReceiptId: string;
}

/**
 * The session a booking's own metadata proves it came through: the metadata carries
 * `cb_nonce`, whose SHA-256 is the one stored with a session of this same tenant. The nonce
 * is 32 random bytes the browser made and sent us once; only its hash is stored, so neither
 * a database reader nor a page that never held the nonce can produce it. Anything else in the
 * metadata (`cb_receipt`, `cb_session`) is the booker's word and proves nothing.
 *
 * The row is found by its hash (an index compares digests, whose timing says nothing useful
 * about a 256-bit preimage); the digest found is then compared again in constant time, so the
 * decision itself never rests on a short-circuiting comparison. Call inside `db.withTenant(tenantId, …)`.
 */
export async function sessionProvenByMetadata(tx: Tx, tenantId: string, metadata: Record<string, unknown> | null | undefined): Promise<ProvenSession | null> {
  const nonce = SessionNonce.safeParse(metadata?.[CALBRIDGE_NONCE_METADATA_KEY]);
  if (!nonce.success) return null;
  const hash = sha256(nonce.data);
  const found = await findSessionByNonceHash(tx, tenantId, hash);
  if (!found || found.nonceSha256.length !== hash.length || !timingSafeEqual(found.nonceSha256, hash)) return null;
  return { sessionId: found.sessionId, consentReceiptId: found.consentReceiptId };
}
