import type { Tenant } from '@calbridge/shared';
import type { Tx } from '../db/db.js';
import { findConnection, type ConnectionRecord } from './connections.repository.js';

// What other capabilities may know of a tenant's Cal.com connection (kind, status, when), in a
// module of its own that depends on nothing else of ours: the tenants capability shows it, GDPR
// checks it, and none of them reach into the calcom capability's repository or services (which
// depend on tenants in turn).

/** Job that registers or repairs a tenant's webhook when doing it inline failed. Payload `{ tenantId }`. */
export const WEBHOOK_SYNC_TASK = 'calcom.webhooks.sync';

export type CalcomSummary = Tenant['calcom'];

const NO_CONNECTION: CalcomSummary = { kind: 'none', status: 'disconnected', connectedAt: null };

export function toSummary(c: Pick<ConnectionRecord, 'kind' | 'status' | 'connectedAt' | 'reauthReason'> | null): CalcomSummary {
  if (!c) return NO_CONNECTION;
  const summary: CalcomSummary = { kind: c.kind, status: c.status, connectedAt: c.connectedAt.toISOString() };
  // Why an admin must connect again: the console says which (another site took the account, or Cal.com refused).
  if (c.status === 'needs_reauth') summary.reauthReason = c.reauthReason ? c.reauthReason.slice(0, 200) : null;
  return summary;
}

/** The tenant's connection summary (never a token). Inside the tenant's transaction. */
export async function connectionSummary(tx: Tx, tenantId: string): Promise<CalcomSummary> {
  return toSummary(await findConnection(tx, tenantId));
}
