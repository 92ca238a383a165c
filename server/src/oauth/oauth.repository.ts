import type { Tx } from '../db/db.js';

export interface OAuthStateRecord {
  tenantId: string;
  expiresAt: Date;
  usedAt: Date | null;
}

export async function insertState(
  tx: Tx,
  s: { stateHash: Buffer; tenantId: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  // No PKCE verifier (decision 0013): code_verifier_sealed stays NULL.
  await tx.query(
    'INSERT INTO calcom_oauth_states (state_hash, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
    [s.stateHash, s.tenantId, s.createdAt, s.expiresAt],
  );
}

/** Forgets states that expired before `before` (kept a while after expiry so a replay is named as one). */
export async function deleteStatesExpiredBefore(tx: Tx, before: Date): Promise<void> {
  await tx.query('DELETE FROM calcom_oauth_states WHERE expires_at < $1', [before]);
}

/** Reads a state and locks it, so two callbacks with it cannot both use it. */
export async function lockState(tx: Tx, stateHash: Buffer): Promise<OAuthStateRecord | null> {
  const r = await tx.query<OAuthStateRecord>(
    `SELECT tenant_id AS "tenantId", expires_at AS "expiresAt", used_at AS "usedAt"
       FROM calcom_oauth_states WHERE state_hash = $1 FOR UPDATE`,
    [stateHash],
  );
  return r.rows[0] ?? null;
}

export async function markStateUsed(tx: Tx, stateHash: Buffer, at: Date): Promise<void> {
  await tx.query('UPDATE calcom_oauth_states SET used_at = $2 WHERE state_hash = $1', [stateHash, at]);
}
