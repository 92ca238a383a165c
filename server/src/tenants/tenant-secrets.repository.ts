import type { Tx } from '../db/db.js';

/** Kinds of secret a tenant holds; each is sealed with its kind as purpose. */
export type SecretKind = 'webhook_secret' | 'calcom_oauth_tokens' | 'calcom_managed_user_tokens' | (string & {});

export interface SealedSecret {
  id: string;
  ciphertext: string;
  createdAt: Date;
  expiresAt: Date | null;
}

export async function insertSecret(tx: Tx, tenantId: string, kind: SecretKind, ciphertext: string, keyId: string): Promise<string> {
  const r = await tx.query<{ id: string }>(
    'INSERT INTO tenant_secrets (tenant_id, kind, ciphertext, key_id) VALUES ($1, $2, $3, $4) RETURNING id',
    [tenantId, kind, ciphertext, keyId],
  );
  return r.rows[0]!.id;
}

/** Secrets of a kind still valid at `now`, newest first. */
export async function activeSecrets(tx: Tx, kind: SecretKind, now: Date): Promise<SealedSecret[]> {
  const r = await tx.query<SealedSecret>(
    `SELECT id, ciphertext, created_at AS "createdAt", expires_at AS "expiresAt"
       FROM tenant_secrets
      WHERE kind = $1 AND (expires_at IS NULL OR expires_at > $2)
      ORDER BY created_at DESC, id`,
    [kind, now],
  );
  return r.rows;
}

/**
 * Starts the grace period of every currently valid secret of a kind, and
 * deletes the ones whose grace already ended: at most the new secret and the
 * one before it verify.
 */
export async function retireSecrets(tx: Tx, kind: SecretKind, now: Date, until: Date): Promise<void> {
  await tx.query('DELETE FROM tenant_secrets WHERE kind = $1 AND expires_at IS NOT NULL AND expires_at <= $2', [kind, now]);
  // Secrets already in a grace period end now; the current one gets the full grace.
  await tx.query('UPDATE tenant_secrets SET expires_at = $2 WHERE kind = $1 AND expires_at IS NOT NULL', [kind, now]);
  await tx.query('UPDATE tenant_secrets SET expires_at = $2 WHERE kind = $1 AND expires_at IS NULL', [kind, until]);
}
