import type { Tx } from '../db/db.js';
import { CalcomAccountInUse } from './calcom.errors.js';

export type ConnectionKind = 'oauth' | 'managed_user';
type ConnectionStatus = 'connected' | 'needs_reauth';

/** A tenant's Cal.com connection row; tokens stay sealed here. */
export interface ConnectionRecord {
  tenantId: string;
  kind: ConnectionKind;
  status: ConnectionStatus;
  calcomUserId: number;
  calcomUsername: string;
  tokensCiphertext: string;
  accessExpiresAt: Date;
  refreshExpiresAt: Date | null;
  tokenVersion: number;
  connectedAt: Date;
  refreshedAt: Date | null;
  reauthReason: string | null;
  webhookId: string | null;
  lastSyncedAt: Date | null;
}

const COLUMNS = `tenant_id AS "tenantId", kind, status, calcom_user_id::int AS "calcomUserId", calcom_username AS "calcomUsername",
  tokens_ciphertext AS "tokensCiphertext", access_expires_at AS "accessExpiresAt", refresh_expires_at AS "refreshExpiresAt",
  token_version AS "tokenVersion", connected_at AS "connectedAt", refreshed_at AS "refreshedAt", reauth_reason AS "reauthReason",
  webhook_id AS "webhookId", last_synced_at AS "lastSyncedAt"`;

export async function findConnection(tx: Tx, tenantId: string): Promise<ConnectionRecord | null> {
  const r = await tx.query<ConnectionRecord>(`SELECT ${COLUMNS} FROM calcom_connections WHERE tenant_id = $1`, [tenantId]);
  return r.rows[0] ?? null;
}

/** Reads the row and holds its lock until the transaction ends: the one refresher across every process. */
export async function lockConnection(tx: Tx, tenantId: string): Promise<ConnectionRecord | null> {
  const r = await tx.query<ConnectionRecord>(`SELECT ${COLUMNS} FROM calcom_connections WHERE tenant_id = $1 FOR UPDATE`, [tenantId]);
  return r.rows[0] ?? null;
}

export interface NewConnection {
  tenantId: string;
  kind: ConnectionKind;
  calcomUserId: number;
  calcomUsername: string;
  tokensCiphertext: string;
  keyId: string;
  accessExpiresAt: Date;
  refreshExpiresAt: Date | null;
  now: Date;
}

/** The partial unique index of migration 0020: one `connected` row per Cal.com user, across every tenant. */
const ONE_TENANT_PER_ACCOUNT = 'calcom_connections_one_tenant_per_account';

/**
 * Creates the connection, or replaces it on reconnect (status back to connected, sync point kept for
 * the same user). Throws {@link CalcomAccountInUse} when another tenant's live connection holds the
 * same Cal.com user: the unique index decides, so two callbacks racing for one account cannot both
 * win (a check read first could not see the other tenant's row under row-level security anyway).
 */
export async function upsertConnection(tx: Tx, c: NewConnection): Promise<void> {
  try {
    await tx.query(
      `INSERT INTO calcom_connections (tenant_id, kind, status, calcom_user_id, calcom_username, tokens_ciphertext, key_id,
       access_expires_at, refresh_expires_at, connected_at, updated_at)
     VALUES ($1, $2, 'connected', $3, $4, $5, $6, $7, $8, $9, $9)
     ON CONFLICT (tenant_id) DO UPDATE SET
       kind = EXCLUDED.kind, status = 'connected', reauth_reason = NULL,
       last_synced_at = CASE WHEN calcom_connections.calcom_user_id = EXCLUDED.calcom_user_id THEN calcom_connections.last_synced_at END,
       webhook_id = CASE WHEN calcom_connections.calcom_user_id = EXCLUDED.calcom_user_id THEN calcom_connections.webhook_id END,
       calcom_user_id = EXCLUDED.calcom_user_id, calcom_username = EXCLUDED.calcom_username,
       tokens_ciphertext = EXCLUDED.tokens_ciphertext, key_id = EXCLUDED.key_id,
       access_expires_at = EXCLUDED.access_expires_at, refresh_expires_at = EXCLUDED.refresh_expires_at,
       token_version = calcom_connections.token_version + 1, connected_at = EXCLUDED.connected_at, updated_at = EXCLUDED.updated_at`,
      [c.tenantId, c.kind, c.calcomUserId, c.calcomUsername, c.tokensCiphertext, c.keyId, c.accessExpiresAt, c.refreshExpiresAt, c.now],
    );
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e.code === '23505' && e.constraint === ONE_TENANT_PER_ACCOUNT) throw new CalcomAccountInUse();
    throw err;
  }
}

export async function updateTokens(
  tx: Tx,
  tenantId: string,
  t: { tokensCiphertext: string; keyId: string; accessExpiresAt: Date; refreshExpiresAt: Date | null; now: Date },
): Promise<void> {
  await tx.query(
    `UPDATE calcom_connections SET tokens_ciphertext = $2, key_id = $3, access_expires_at = $4,
       refresh_expires_at = coalesce($5, refresh_expires_at), token_version = token_version + 1, refreshed_at = $6, updated_at = $6
     WHERE tenant_id = $1`,
    [tenantId, t.tokensCiphertext, t.keyId, t.accessExpiresAt, t.refreshExpiresAt, t.now],
  );
}

export async function markNeedsReauth(tx: Tx, tenantId: string, reason: string, now: Date): Promise<void> {
  await tx.query(`UPDATE calcom_connections SET status = 'needs_reauth', reauth_reason = $2, updated_at = $3 WHERE tenant_id = $1`, [
    tenantId,
    reason.slice(0, 200),
    now,
  ]);
}

export async function deleteConnection(tx: Tx, tenantId: string): Promise<boolean> {
  const r = await tx.query('DELETE FROM calcom_connections WHERE tenant_id = $1', [tenantId]);
  return (r.rowCount ?? 0) > 0;
}

export async function setWebhook(tx: Tx, tenantId: string, webhookId: string | null, now: Date): Promise<void> {
  await tx.query('UPDATE calcom_connections SET webhook_id = $2, webhook_synced_at = $3, updated_at = $3 WHERE tenant_id = $1', [tenantId, webhookId, now]);
}

export async function setLastSynced(tx: Tx, tenantId: string, at: Date): Promise<void> {
  await tx.query('UPDATE calcom_connections SET last_synced_at = $2 WHERE tenant_id = $1', [tenantId, at]);
}
