import { createHash } from 'node:crypto';
import type { WidgetConfig, WidgetConsent } from '@calbridge/shared';
import type { AppContext } from '../context.js';
import type { TenantRecord } from '../tenants/tenants.service.js';
import { WidgetNotConfigured } from '../sessions/sessions.errors.js';

/**
 * The consent text every tenant shows until per-tenant consent settings exist (NOT DONE:
 * no admin API sets them yet). Changing the text means a new version.
 */
export const DEFAULT_CONSENT = (publicUrl: string): WidgetConsent => ({
  version: '2026-11-25',
  text:
    'To show the booking calendar, this page loads it from our scheduling provider (Cal.com), which then receives your booking details and technical data such as your IP address. We keep a record of this consent.',
  purposes: [
    { id: 'booking', required: true, label: 'Load the booking calendar and arrange my appointment' },
    { id: 'follow_up', required: false, label: 'Let this business follow up about related services' },
  ],
  privacyPolicyUrl: `${publicUrl}/privacy`,
});

/** SHA-256 (hex) of the consent text, stored in each receipt. */
export const consentTextHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function createWidgetService(ctx: Pick<AppContext, 'config'>) {
  const calOrigin = new URL(ctx.config.calcom.appUrl).origin;
  return {
    consent(_tenant: TenantRecord): WidgetConsent {
      return DEFAULT_CONSENT(ctx.config.publicUrl);
    },

    /** The public config of `GET /v1/widget/:tenant/config`. The tenant's `calLink` is `owner/event`. */
    config(tenant: TenantRecord): WidgetConfig {
      if (!tenant.calLink) throw new WidgetNotConfigured();
      const parts = tenant.calLink.split('/');
      const defaultEvent = parts.length > 1 ? parts.pop() : undefined;
      return {
        tenant: tenant.slug,
        calLink: parts.join('/'),
        calOrigin,
        ...(defaultEvent ? { defaultEvent } : {}),
        consent: this.consent(tenant),
        theme: 'auto',
        modes: ['inline', 'popup', 'floating'],
      };
    },
  };
}
export type WidgetService = ReturnType<typeof createWidgetService>;
