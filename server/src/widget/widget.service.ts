import { createHash } from 'node:crypto';
import type { ConsentSettings, WidgetConfig, WidgetConsent, WidgetMode, WidgetSettings, WidgetSettingsPatch } from '@calbridge/shared';
import type { AppContext } from '../context.js';
import type { Tx } from '../db/db.js';
import type { TenantRecord } from '../tenants/tenant-record.js';
import { WidgetNotConfigured } from '../sessions/sessions.errors.js';
import { ConsentVersionUnchanged } from './widget.errors.js';
import { findConsentVersion, insertConsentVersion } from './widget.repository.js';

/**
 * The consent wording of every tenant that has not set its own (`widget.consent` in the
 * admin tenant API). Changing this text means a new version, as for a tenant's own.
 */
export const DEFAULT_CONSENT_SETTINGS: ConsentSettings = {
  version: '2026-11-25',
  text:
    'To show the booking calendar, this page loads it from our scheduling provider (Cal.com), which then receives your booking details and technical data such as your IP address. We keep a record of this consent.',
  purposes: [
    { id: 'booking', required: true, label: 'Load the booking calendar and arrange my appointment' },
    { id: 'follow_up', required: false, label: 'Let this business follow up about related services' },
  ],
};

/** Modes a tenant's pages may use when its settings name none (`native` is published only while Cal.com is connected: widget/published-modes.ts). */
const DEFAULT_MODES: WidgetMode[] = ['inline', 'popup', 'floating', 'native'];

/** The server's own privacy page (served at `/privacy`), linked when a tenant names no privacy policy. */
const defaultPrivacyPolicyUrl = (publicUrl: string): string => `${publicUrl}/privacy`;

/** The default consent as the widget config shows it. */
export const DEFAULT_CONSENT = (publicUrl: string): WidgetConsent => ({
  ...DEFAULT_CONSENT_SETTINGS,
  privacyPolicyUrl: defaultPrivacyPolicyUrl(publicUrl),
});

/** SHA-256 (hex) of the consent text, stored in each receipt. */
export const consentTextHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The consent wording a tenant shows now: its own, or the default. */
export const effectiveConsent = (settings: WidgetSettings): ConsentSettings => settings.consent ?? DEFAULT_CONSENT_SETTINGS;

/** Applies a `widget` patch of the admin API: members replace, `null` removes (back to the default). */
export function mergeWidgetSettings(stored: WidgetSettings, patch: WidgetSettingsPatch): WidgetSettings {
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

const samePurposes = (a: ConsentSettings['purposes'], b: ConsentSettings['purposes']): boolean =>
  a.length === b.length && a.every((p, i) => p.id === b[i]!.id && p.required === b[i]!.required && p.label === b[i]!.label);

const sameWording = (a: ConsentSettings, b: { text: string; purposes: ConsentSettings['purposes'] }): boolean =>
  a.text === b.text && samePurposes(a.purposes, b.purposes);

/** The checks that need no history: `next` may not reuse the current version or the default's for other wording. */
export function assertConsentVersionFree(previous: ConsentSettings, next: ConsentSettings): void {
  for (const taken of [previous, DEFAULT_CONSENT_SETTINGS])
    if (taken.version === next.version && !sameWording(taken, next)) throw new ConsentVersionUnchanged();
}

/**
 * Checks that switching a tenant from `previous` to `next` consent wording keeps "one version,
 * one wording" — against the current wording, the default's version and every version the
 * tenant published before — and records both in the tenant's consent history. Runs inside
 * the tenant's transaction; throws 409 `consent_version_unchanged`.
 */
export async function recordConsentChange(tx: Tx, tenantId: string, previous: ConsentSettings, next: ConsentSettings): Promise<void> {
  if (previous.version === next.version && sameWording(previous, next)) return;
  assertConsentVersionFree(previous, next);
  const known = await findConsentVersion(tx, next.version);
  if (known && (known.textSha256 !== consentTextHash(next.text) || !samePurposes(known.purposes, next.purposes))) throw new ConsentVersionUnchanged();
  for (const c of [previous, next])
    await insertConsentVersion(tx, { tenantId, version: c.version, textSha256: consentTextHash(c.text), text: c.text, purposes: c.purposes });
}

export function createWidgetService(ctx: Pick<AppContext, 'config'>) {
  const calOrigin = new URL(ctx.config.calcom.appUrl).origin;
  return {
    /** The consent the tenant's visitors see now, with its privacy policy link. */
    consent(tenant: TenantRecord): WidgetConsent {
      return {
        ...effectiveConsent(tenant.widget),
        privacyPolicyUrl: tenant.widget.privacyPolicyUrl ?? defaultPrivacyPolicyUrl(ctx.config.publicUrl),
      };
    },

    /**
     * The public config of `GET /v1/widget/:tenant/config`: the tenant's widget settings over the
     * defaults. The tenant's `calLink` is `owner/event`; its event is the default unless the settings name one.
     */
    config(tenant: TenantRecord): WidgetConfig {
      if (!tenant.calLink) throw new WidgetNotConfigured();
      const parts = tenant.calLink.split('/');
      const linkEvent = parts.length > 1 ? parts.pop() : undefined;
      const defaultEvent = tenant.widget.defaultEvent ?? linkEvent;
      return {
        tenant: tenant.slug,
        calLink: parts.join('/'),
        calOrigin,
        ...(defaultEvent ? { defaultEvent } : {}),
        consent: this.consent(tenant),
        theme: tenant.widget.theme ?? 'auto',
        modes: tenant.widget.modes ?? DEFAULT_MODES,
      };
    },
  };
}
export type WidgetService = ReturnType<typeof createWidgetService>;
