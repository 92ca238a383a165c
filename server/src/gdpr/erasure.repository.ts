import type { Tx } from '../db/db.js';

// SQL of keeping erased people erased (erasure-guard.ts, subject.ts): the tenant's erasure lock,
// the erased-subject lookup and the lock that makes a tenant's subject salt once. Runs inside
// db.withTenant (RLS).

const ERASURE_LOCK_KEY = "hashtext('calbridge_gdpr_erasure:' || $1)";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tenant's erasure lock, shared: taken by writers of personal data. */
export async function lockErasureShared(tx: Tx, tenantId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock_shared(${ERASURE_LOCK_KEY})`, [tenantId]);
}

/**
 * {@link lockErasureShared}, then whether the tenant has erased anyone: two statements of one
 * simple query, so the second takes its snapshot after the lock is held and sees an erasure that
 * committed while we waited. As text too, for the opening round trip of a tenant transaction
 * (`db.withTenant(id, fn, opening)`); simple queries take no parameters, so the id goes in as a
 * literal and must be a uuid.
 */
export function lockSharedThenAnyErasedSql(tenantId: string): string {
  if (!UUID.test(tenantId)) throw new Error('tenant id is not a uuid');
  return `SELECT pg_advisory_xact_lock_shared(hashtext('calbridge_gdpr_erasure:' || '${tenantId}')); SELECT 1 FROM erased_subjects LIMIT 1`;
}

/** {@link lockSharedThenAnyErasedSql} run on its own: the two statements' results. */
export async function lockSharedThenAnyErased(tx: Tx, tenantId: string): Promise<{ rowCount: number | null }[]> {
  return (await tx.query(lockSharedThenAnyErasedSql(tenantId))) as unknown as { rowCount: number | null }[];
}

/** The tenant's erasure lock, exclusive: taken by an erasure. */
export async function lockErasureExclusive(tx: Tx, tenantId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${ERASURE_LOCK_KEY})`, [tenantId]);
}

/** Which of these salted subject hashes are erased (hex). */
export async function erasedHashes(tx: Tx, hashes: Buffer[]): Promise<Set<string>> {
  const r = await tx.query<{ h: Buffer }>('SELECT subject_hash AS h FROM erased_subjects WHERE subject_hash = ANY($1::bytea[])', [hashes]);
  return new Set(r.rows.map((row) => row.h.toString('hex')));
}

/** Serialises the first making of a tenant's subject salt (two racing first uses would make two). */
export async function lockSubjectSalt(tx: Tx, tenantId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('calbridge_gdpr_salt:' || $1))", [tenantId]);
}
