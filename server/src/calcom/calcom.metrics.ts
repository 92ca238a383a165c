import { Counter, type Registry } from 'prom-client';

/** Cal.com connection metrics, registered once per registry (apps in one test process have their own). */
export interface CalcomMetrics {
  refreshes: Counter<'kind' | 'outcome'>;
  needsReauth: Counter<'kind'>;
  reconciled: Counter<'result'>;
  retries: Counter<'status'>;
  reconcileDeferred: Counter<'reason'>;
  sharedBudget: Counter<'tracker' | 'purpose' | 'outcome'>;
}

const byRegistry = new WeakMap<Registry, CalcomMetrics>();

export function calcomMetrics(registry: Registry): CalcomMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = {
      refreshes: new Counter({
        name: 'calbridge_calcom_token_refreshes_total',
        help: 'Cal.com token refreshes by connection kind and outcome (refreshed, forced = managed user recovered with force-refresh, refused, failed, budget_spent = put off because the shared budget was spent, stale = the current token used a little longer because the shared budget was spent).',
        labelNames: ['kind', 'outcome'] as const,
        registers: [registry],
      }),
      needsReauth: new Counter({
        name: 'calbridge_calcom_connections_needs_reauth_total',
        help: 'Connections marked needs_reauth because Cal.com refused their refresh token.',
        labelNames: ['kind'] as const,
        registers: [registry],
      }),
      reconciled: new Counter({
        name: 'calbridge_calcom_reconciled_bookings_total',
        help: 'Bookings read by reconciliation, by result (created, updated, unchanged, unreadable = skipped, logged without personal data).',
        labelNames: ['result'] as const,
        registers: [registry],
      }),
      retries: new Counter({
        name: 'calbridge_calcom_api_retries_total',
        help: 'Cal.com API v2 calls retried, by the status that caused it (network for none).',
        labelNames: ['status'] as const,
        registers: [registry],
      }),
      reconcileDeferred: new Counter({
        name: 'calbridge_calcom_reconcile_deferred_total',
        help: "Tenant reconciliations put off past Cal.com's rate-limit reset, by reason (budget = its headers said the budget was down to the reserve; refused = a 429; shared_budget = a token refresh found the budget shared across tenants spent; abandoned = put off too often, left to the next pass).",
        labelNames: ['reason'] as const,
        registers: [registry],
      }),
      sharedBudget: new Counter({
        name: 'calbridge_calcom_shared_budget_total',
        help: "Units asked of the budgets of Cal.com's trackers shared across tenants (token_endpoint = OAuth refreshes by our address, platform_client = managed-user refreshes), by purpose (visitor, background) and outcome (taken, refused).",
        labelNames: ['tracker', 'purpose', 'outcome'] as const,
        registers: [registry],
      }),
    };
    byRegistry.set(registry, m);
  }
  return m;
}
