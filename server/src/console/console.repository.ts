import type { Tx } from '../db/db.js';

/** SQL of the admin console: sign-in transactions, sessions (platform scope) and the console audit log. */

export interface LoginTransactionRow {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: Date;
}

export async function insertLoginTransaction(tx: Tx, idHash: Buffer, t: LoginTransactionRow & { createdAt: Date }): Promise<void> {
  // Old, never-finished sign-ins go as new ones start: the table stays small without a job.
  await tx.query('DELETE FROM console_login_transactions WHERE expires_at < $1', [t.createdAt]);
  await tx.query(
    `INSERT INTO console_login_transactions (id_hash, state, nonce, code_verifier, return_to, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [idHash, t.state, t.nonce, t.codeVerifier, t.returnTo, t.createdAt, t.expiresAt],
  );
}

/** Takes a transaction out (one use only). */
export async function takeLoginTransaction(tx: Tx, idHash: Buffer): Promise<LoginTransactionRow | null> {
  const r = await tx.query<LoginTransactionRow>(
    `DELETE FROM console_login_transactions WHERE id_hash = $1
     RETURNING state, nonce, code_verifier AS "codeVerifier", return_to AS "returnTo", expires_at AS "expiresAt"`,
    [idHash],
  );
  return r.rows[0] ?? null;
}

export interface SessionRow {
  subject: string;
  issuer: string;
  roles: string[];
  idToken: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  expiresAt: Date;
}

export async function insertSession(tx: Tx, idHash: Buffer, s: SessionRow): Promise<void> {
  await tx.query('DELETE FROM console_sessions WHERE expires_at < $1 OR idle_expires_at < $1', [s.createdAt]);
  await tx.query(
    `INSERT INTO console_sessions (id_hash, subject, issuer, roles, id_token, created_at, last_seen_at, idle_expires_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [idHash, s.subject, s.issuer, s.roles, s.idToken, s.createdAt, s.lastSeenAt, s.idleExpiresAt, s.expiresAt],
  );
}

export async function findSession(tx: Tx, idHash: Buffer): Promise<SessionRow | null> {
  const r = await tx.query<SessionRow>(
    `SELECT subject, issuer, roles, id_token AS "idToken", created_at AS "createdAt", last_seen_at AS "lastSeenAt",
            idle_expires_at AS "idleExpiresAt", expires_at AS "expiresAt"
       FROM console_sessions WHERE id_hash = $1`,
    [idHash],
  );
  return r.rows[0] ?? null;
}

export async function touchSession(tx: Tx, idHash: Buffer, at: Date, idleExpiresAt: Date): Promise<void> {
  await tx.query('UPDATE console_sessions SET last_seen_at = $2, idle_expires_at = LEAST($3, expires_at) WHERE id_hash = $1', [idHash, at, idleExpiresAt]);
}

export async function deleteSession(tx: Tx, idHash: Buffer): Promise<SessionRow | null> {
  const r = await tx.query<SessionRow>(
    `DELETE FROM console_sessions WHERE id_hash = $1
     RETURNING subject, issuer, roles, id_token AS "idToken", created_at AS "createdAt", last_seen_at AS "lastSeenAt",
               idle_expires_at AS "idleExpiresAt", expires_at AS "expiresAt"`,
    [idHash],
  );
  return r.rows[0] ?? null;
}

export interface ConsoleAuditRow {
  at: Date;
  subject: string;
  method: string;
  route: string;
  status: number;
}

/** `tenantId` null: an action on the directory, written in platform scope. */
export async function insertAudit(tx: Tx, tenantId: string | null, a: ConsoleAuditRow): Promise<void> {
  await tx.query('INSERT INTO console_audit_log (tenant_id, at, subject, method, route, status) VALUES ($1, $2, $3, $4, $5, $6)', [
    tenantId,
    a.at,
    a.subject,
    a.method,
    a.route,
    a.status,
  ]);
}

export async function listAudit(tx: Tx, limit: number, before: string | null): Promise<(ConsoleAuditRow & { id: string })[]> {
  const r = await tx.query<ConsoleAuditRow & { id: string }>(
    `SELECT id::text AS id, at, subject, method, route, status FROM console_audit_log
      WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
    [before, limit],
  );
  return r.rows;
}
