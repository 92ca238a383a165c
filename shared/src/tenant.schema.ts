import { z } from 'zod';
import { TenantSlug, TimeZone, WebOrigin } from './web.schema.js';
import { WidgetSettings, WidgetSettingsPatch } from './widget-settings.schema.js';

export { SeqCursor, TenantSlug, TimeZone, WebOrigin } from './web.schema.js';

/** A Cal.com link: `user/event-slug` (or `team/x/event-slug`), as used by the embed's `calLink`. */
export const CalLink = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+){1,2}$/, 'a Cal.com link such as "jane/intro-call"');

/** Body of `POST /v1/admin/tenants`. Unknown fields are refused so typos never pass silently. */
export const CreateTenantRequest = z.strictObject({
  slug: TenantSlug,
  name: z.string().trim().min(1).max(200),
  allowedOrigins: z.array(WebOrigin).max(50),
  calLink: CalLink.optional(),
  timeZone: TimeZone.optional(),
  /** Widget settings (consent wording, privacy policy, theme, modes, default event); unset fields use the defaults. */
  widget: WidgetSettings.optional(),
});
export type CreateTenantRequest = z.infer<typeof CreateTenantRequest>;

/** Body of `PATCH /v1/admin/tenants/:slug`: any subset of the mutable fields, at least one. */
export const UpdateTenantRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    allowedOrigins: z.array(WebOrigin).max(50).optional(),
    calLink: CalLink.nullable().optional(),
    timeZone: TimeZone.optional(),
    /** Merged into the stored widget settings; a member set to `null` returns to its default. */
    widget: WidgetSettingsPatch.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change' });
export type UpdateTenantRequest = z.infer<typeof UpdateTenantRequest>;

/** How a tenant reaches Cal.com. Never carries a token. */
export const CalcomConnection = z.object({
  kind: z.enum(['none', 'oauth', 'managed_user']),
  status: z.enum(['connected', 'needs_reauth', 'disconnected']),
  connectedAt: z.string().nullable(),
  /**
   * With `needs_reauth` only: why. `calcom_account_in_use` when another tenant holds the Cal.com
   * account (decision 0034); otherwise Cal.com's refusal of the stored authorisation, as it said it.
   */
  reauthReason: z.string().max(200).nullable().optional(),
});
export type CalcomConnection = z.infer<typeof CalcomConnection>;

/** A tenant as the admin API returns it. */
export const Tenant = z.object({
  id: z.string().uuid(),
  slug: TenantSlug,
  name: z.string(),
  allowedOrigins: z.array(z.string()),
  calLink: z.string().nullable(),
  timeZone: z.string(),
  calcom: CalcomConnection,
  /** The widget settings the tenant set (defaults are not filled in; the public widget config shows the result). */
  widget: WidgetSettings,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Tenant = z.infer<typeof Tenant>;

/** Body of `POST /v1/admin/tokens`. Without `tenant` the token reaches every tenant. */
export const CreateAdminTokenRequest = z.strictObject({
  tenant: TenantSlug.optional(),
  label: z.string().trim().min(1).max(100).optional(),
});
export type CreateAdminTokenRequest = z.infer<typeof CreateAdminTokenRequest>;
