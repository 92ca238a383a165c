import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import type { ConsentChoice } from '../../entities/session/session.js';
import { WidgetError } from '../../shared/lib/widget-error.js';

/** Consent given through the host page's own consent manager (`grantConsent`). */
export interface ConsentDetails {
  /** Purposes the visitor agreed to; must include every required purpose. */
  purposes: string[];
  /** Consent text version the visitor saw; when given, it must match the tenant's current one. */
  version?: string;
}

/**
 * Checks consent against the tenant's consent config: every required purpose present, no
 * unknown purpose, and the same text version. Throws `consent_invalid` otherwise. A grant from
 * the page's consent manager (`source` `tcf` or `gcm`, cmp.ts) is for the required purposes,
 * nothing optional, whatever `details` says; the element alone sets `source`.
 */
export function checkConsent(config: TenantConfig, details: ConsentDetails | undefined, source: NonNullable<ConsentChoice['source']> = 'api'): ConsentChoice {
  const { version, purposes } = config.consent;
  if (source === 'tcf' || source === 'gcm') details = { purposes: purposes.filter((p) => p.required).map((p) => p.id) };
  const known = new Set(purposes.map((p) => p.id));
  const given = [...new Set(details?.purposes ?? [])];
  if (
    (details?.version && details.version !== version) ||
    !given.every((p) => known.has(p)) ||
    !purposes.every((p) => !p.required || given.includes(p.id))
  )
    throw new WidgetError('consent_invalid');
  return { version, purposes: given, source };
}
