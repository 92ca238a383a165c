import type { Tenant, WidgetMode } from '@calbridge/shared';

/**
 * The modes a tenant's widget config publishes. `native` books through the tenant's Cal.com
 * connection, so it is offered only while that connection works; a tenant that allows nothing
 * but `native` keeps it (its booking calls then answer `calcom_not_connected`, the real reason).
 * Sessions get the `bookings:create` scope exactly when `native` is published.
 */
export function publishedModes(modes: readonly WidgetMode[], calcom: Tenant['calcom']): WidgetMode[] {
  if (calcom.status === 'connected' || !modes.includes('native')) return [...modes];
  const rest = modes.filter((m) => m !== 'native');
  return rest.length ? rest : [...modes];
}
