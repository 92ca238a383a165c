import type { WidgetSettings } from '@calbridge/shared';
import type { Tx } from '../db/db.js';

import type { TenantRecord } from './tenant-record.js';

export type { TenantRecord };

const COLUMNS = `id, slug, name, allowed_origins AS "allowedOrigins", cal_link AS "calLink",
  time_zone AS "timeZone", widget_settings AS "widget", created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function insertTenant(
  tx: Tx,
  t: { slug: string; name: string; allowedOrigins: string[]; calLink: string | null; timeZone: string; widget?: WidgetSettings },
): Promise<TenantRecord | null> {
  const r = await tx.query<TenantRecord>(
    `INSERT INTO tenants (slug, name, allowed_origins, cal_link, time_zone, widget_settings)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (slug) DO NOTHING
     RETURNING ${COLUMNS}`,
    [t.slug, t.name, t.allowedOrigins, t.calLink, t.timeZone, JSON.stringify(t.widget ?? {})],
  );
  return r.rows[0] ?? null;
}

export async function findTenantBySlug(tx: Tx, slug: string): Promise<TenantRecord | null> {
  const r = await tx.query<TenantRecord>(`SELECT ${COLUMNS} FROM tenants WHERE slug = $1`, [slug]);
  return r.rows[0] ?? null;
}

/** The tenant row locked for an update that reads before it writes (widget settings merge). */
export async function lockTenant(tx: Tx, id: string): Promise<TenantRecord | null> {
  const r = await tx.query<TenantRecord>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1 FOR UPDATE`, [id]);
  return r.rows[0] ?? null;
}

export async function findTenantById(tx: Tx, id: string): Promise<TenantRecord | null> {
  const r = await tx.query<TenantRecord>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
  return r.rows[0] ?? null;
}

/** Tenants in slug order after `afterSlug`; only what the transaction's scope can see. */
export async function listTenants(tx: Tx, limit: number, afterSlug: string | null): Promise<TenantRecord[]> {
  const r = await tx.query<TenantRecord>(
    `SELECT ${COLUMNS} FROM tenants WHERE ($1::text IS NULL OR slug > $1) ORDER BY slug LIMIT $2`,
    [afterSlug, limit],
  );
  return r.rows;
}

export async function updateTenant(
  tx: Tx,
  id: string,
  patch: { name?: string; allowedOrigins?: string[]; calLink?: string | null; timeZone?: string; widget?: WidgetSettings },
): Promise<TenantRecord | null> {
  const r = await tx.query<TenantRecord>(
    `UPDATE tenants SET
       name = CASE WHEN $2 THEN $3 ELSE name END,
       allowed_origins = CASE WHEN $4 THEN $5::text[] ELSE allowed_origins END,
       cal_link = CASE WHEN $6 THEN $7 ELSE cal_link END,
       time_zone = CASE WHEN $8 THEN $9 ELSE time_zone END,
       widget_settings = CASE WHEN $10 THEN $11::jsonb ELSE widget_settings END,
       updated_at = now()
     WHERE id = $1
     RETURNING ${COLUMNS}`,
    [
      id,
      patch.name !== undefined, patch.name ?? null,
      patch.allowedOrigins !== undefined, patch.allowedOrigins ?? null,
      patch.calLink !== undefined, patch.calLink ?? null,
      patch.timeZone !== undefined, patch.timeZone ?? null,
      patch.widget !== undefined, patch.widget === undefined ? null : JSON.stringify(patch.widget),
    ],
  );
  return r.rows[0] ?? null;
}
