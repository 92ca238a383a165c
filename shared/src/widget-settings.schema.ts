import { z } from 'zod';
import { ConsentPurpose, EventSlug, WidgetMode, WidgetTheme } from './widget.schema.js';

// A tenant's widget settings, set through the admin tenant API and published
// (merged over the defaults) by `GET /v1/widget/:tenant/config`.

/**
 * The consent wording a tenant shows. `version` names the wording: a receipt stores the
 * version and the SHA-256 of `text`, so changing `text` or `purposes` needs a new `version`
 * (the server refuses otherwise with 409 `consent_version_unchanged`).
 */
export const ConsentSettings = z.strictObject({
  version: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - such as "2026-12-01"'),
  text: z.string().trim().min(1).max(4000),
  purposes: z
    .array(ConsentPurpose)
    .min(1)
    .max(10)
    .refine((p) => p.some((x) => x.required), { message: 'at least one required purpose' })
    .refine((p) => new Set(p.map((x) => x.id)).size === p.length, { message: 'purpose ids must be unique' }),
});
export type ConsentSettings = z.infer<typeof ConsentSettings>;

const settingsShape = {
  /** The consent step's text, version and purposes. Unset: Calbridge's default wording. */
  consent: ConsentSettings,
  /** The tenant's own privacy policy. Unset: the server's `/privacy` page describing what Calbridge stores. */
  privacyPolicyUrl: z.url({ protocol: /^https?$/ }).max(2048),
  /** Colour scheme the element uses when the page sets no `theme` attribute. Unset: `auto`. */
  theme: WidgetTheme,
  /** Modes the element may use on this tenant's pages. Unset: every mode. */
  modes: z
    .array(WidgetMode)
    .min(1)
    .refine((m) => new Set(m).size === m.length, { message: 'each mode once' }),
  /** Event type slug used when the element has no `event` attribute. Unset: the slug in the tenant's `calLink`. */
  defaultEvent: EventSlug,
};

/** Stored widget settings: only what the tenant set; every field falls back to a default. */
export const WidgetSettings = z.strictObject({
  consent: settingsShape.consent.optional(),
  privacyPolicyUrl: settingsShape.privacyPolicyUrl.optional(),
  theme: settingsShape.theme.optional(),
  modes: settingsShape.modes.optional(),
  defaultEvent: settingsShape.defaultEvent.optional(),
});
export type WidgetSettings = z.infer<typeof WidgetSettings>;

/**
 * The `widget` member of `PATCH /v1/admin/tenants/:slug`: merged into the stored settings
 * field by field; a field set to `null` goes back to its default.
 */
export const WidgetSettingsPatch = z.strictObject({
  consent: settingsShape.consent.nullable().optional(),
  privacyPolicyUrl: settingsShape.privacyPolicyUrl.nullable().optional(),
  theme: settingsShape.theme.nullable().optional(),
  modes: settingsShape.modes.nullable().optional(),
  defaultEvent: settingsShape.defaultEvent.nullable().optional(),
});
export type WidgetSettingsPatch = z.infer<typeof WidgetSettingsPatch>;
