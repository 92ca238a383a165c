import type { ConsentPurpose } from '@calbridge/shared';
import type { Tx } from '../db/db.js';

/** One published consent wording of a tenant. */
export interface ConsentVersionRecord {
  version: string;
  textSha256: string;
  text: string;
  purposes: ConsentPurpose[];
  createdAt: Date;
}

export async function findConsentVersion(tx: Tx, version: string): Promise<ConsentVersionRecord | null> {
  const r = await tx.query<ConsentVersionRecord>(
    `SELECT version, text_sha256 AS "textSha256", text, purposes, created_at AS "createdAt"
       FROM widget_consent_versions WHERE version = $1`,
    [version],
  );
  return r.rows[0] ?? null;
}

/** Records a wording under its version; a version already recorded is left as it is. */
export async function insertConsentVersion(
  tx: Tx,
  v: { tenantId: string; version: string; textSha256: string; text: string; purposes: ConsentPurpose[] },
): Promise<void> {
  await tx.query(
    `INSERT INTO widget_consent_versions (tenant_id, version, text_sha256, text, purposes)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, version) DO NOTHING`,
    [v.tenantId, v.version, v.textSha256, v.text, JSON.stringify(v.purposes)],
  );
}
