import type { Tx } from '../db/db.js';

export interface AdminTokenRecord {
  id: string;
  tenantId: string | null;
  tenantSlug: string | null;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export async function insertToken(tx: Tx, t: { tenantId: string | null; hash: Buffer; label: string | null }): Promise<AdminTokenRecord> {
  const r = await tx.query<AdminTokenRecord>(
    `WITH ins AS (
       INSERT INTO admin_tokens (tenant_id, token_hash, label) VALUES ($1, $2, $3)
       RETURNING id, tenant_id, label, created_at, revoked_at)
     SELECT ins.id, ins.tenant_id AS "tenantId", t.slug AS "tenantSlug", ins.label,
            ins.created_at AS "createdAt", ins.revoked_at AS "revokedAt"
       FROM ins LEFT JOIN tenants t ON t.id = ins.tenant_id`,
    [t.tenantId, t.hash, t.label],
  );
  return r.rows[0]!;
}

/** The live token with this hash, or null. */
export async function findActiveByHash(tx: Tx, hash: Buffer): Promise<AdminTokenRecord | null> {
  const r = await tx.query<AdminTokenRecord>(
    `SELECT a.id, a.tenant_id AS "tenantId", t.slug AS "tenantSlug", a.label,
            a.created_at AS "createdAt", a.revoked_at AS "revokedAt"
       FROM admin_tokens a LEFT JOIN tenants t ON t.id = a.tenant_id
      WHERE a.token_hash = $1 AND a.revoked_at IS NULL`,
    [hash],
  );
  return r.rows[0] ?? null;
}

export async function findById(tx: Tx, id: string): Promise<AdminTokenRecord | null> {
  const r = await tx.query<AdminTokenRecord>(
    `SELECT a.id, a.tenant_id AS "tenantId", t.slug AS "tenantSlug", a.label,
            a.created_at AS "createdAt", a.revoked_at AS "revokedAt"
       FROM admin_tokens a LEFT JOIN tenants t ON t.id = a.tenant_id WHERE a.id = $1`,
    [id],
  );
  return r.rows[0] ?? null;
}

export async function revoke(tx: Tx, id: string): Promise<void> {
  await tx.query('UPDATE admin_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [id]);
}
