import { z } from 'zod';
import { SeqCursor } from './web.schema.js';

// GDPR admin API (issue 8): subject access, erasure, consent receipts,
// retention and the audit log. Contracts only; the server owns the behaviour.

/**
 * A data subject's email as it appears in a path or query: trimmed and
 * lower-cased before anything is looked up, so `Jane@Example.com` and
 * `jane@example.com` are one person.
 */
export const SubjectEmail = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'an email address')
  .transform((s) => s.toLowerCase());
export type SubjectEmail = z.infer<typeof SubjectEmail>;

/** Query of `GET /v1/admin/tenants/:slug/subjects/:email/export`. */
export const SubjectExportQuery = z.strictObject({
  /** `zip` answers with an archive holding the same JSON document; `json` (default) unless `Accept: application/zip`. */
  format: z.enum(['json', 'zip']).optional(),
});
export type SubjectExportQuery = z.infer<typeof SubjectExportQuery>;

const Flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

/**
 * Body or query of `DELETE /v1/admin/tenants/:slug/subjects/:email`.
 * `cancelFutureBookings` defaults to the tenant's policy
 * (`cancelFutureBookingsOnErasure`, itself false by default).
 */
export const EraseSubjectOptions = z.strictObject({
  cancelFutureBookings: Flag.optional(),
});
export type EraseSubjectOptions = z.infer<typeof EraseSubjectOptions>;

/** What an erasure did to one store. */
export const ErasureStoreCount = z.object({
  /** Rows rewritten without the subject's data (time and status kept). */
  pseudonymised: z.number().int().min(0),
  /** Rows removed. */
  deleted: z.number().int().min(0),
});

/** One Cal.com cancellation an erasure asked for. */
export const ErasureCancellation = z.object({
  bookingUid: z.string(),
  outcome: z.enum(['cancelled', 'failed']),
  /** The problem code when it failed. */
  code: z.string().nullable(),
});

/**
 * The receipt of an erasure: what was done where. Holds no email and no name;
 * `subjectRef` is the salted hash the tenant recognises the person by.
 */
export const ErasureReceipt = z.object({
  id: z.uuid(),
  subjectRef: z.string().regex(/^[0-9a-f]{64}$/),
  erasedAt: z.string(),
  requestedBy: z.string().nullable(),
  stores: z.record(z.string(), ErasureStoreCount),
  calcom: z.object({
    requested: z.boolean(),
    /** `done`, `skipped: not connected`, `skipped: not requested`, `skipped: no future bookings`. */
    status: z.string(),
    cancellations: z.array(ErasureCancellation),
  }),
  crm: z.object({
    /** `subject.erased` events queued for the tenant's CRM destinations. */
    eventsEmitted: z.number().int().min(0),
    status: z.string(),
  }),
});
export type ErasureReceipt = z.infer<typeof ErasureReceipt>;

/** Body of `PUT /v1/admin/tenants/:slug/retention`; bounds in {@link RETENTION_BOUNDS}. */
export const RETENTION_BOUNDS = {
  rawDeliveryDays: { min: 7, max: 3650, default: 30 },
  bookingDays: { min: 30, max: 3650, default: 730 },
  consentReceiptDays: { min: 365, max: 3650, default: 1095 },
} as const;

const days = (b: { min: number; max: number }) => z.number().int().min(b.min).max(b.max);

/**
 * A tenant's retention policy. Raw deliveries never outlive the bookings
 * built from them, and consent receipts live at least as long as the bookings
 * they justify (docs/decisions/0007-retention.md).
 */
export const RetentionPolicy = z.strictObject({
  rawDeliveryDays: days(RETENTION_BOUNDS.rawDeliveryDays),
  bookingDays: days(RETENTION_BOUNDS.bookingDays),
  consentReceiptDays: days(RETENTION_BOUNDS.consentReceiptDays),
  cancelFutureBookingsOnErasure: z.boolean(),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicy>;

/** Body of `PUT …/retention`: any subset; unset fields keep their value. */
export const RetentionPolicyPatch = RetentionPolicy.partial().refine((p) => Object.keys(p).length > 0, { message: 'at least one field' });
export type RetentionPolicyPatch = z.infer<typeof RetentionPolicyPatch>;

/** The answer of `GET …/retention`: the policy and the latest run. */
export const RetentionStatus = z.object({
  policy: RetentionPolicy,
  /** True while the tenant never set a policy and the defaults apply. */
  isDefault: z.boolean(),
  lastRun: z
    .object({
      ranAt: z.string(),
      cutoffs: z.record(z.string(), z.string()),
      counts: z.record(z.string(), z.number().int()),
    })
    .nullable(),
});
export type RetentionStatus = z.infer<typeof RetentionStatus>;

/** Query of `GET …/consents` (and `…/audit`): newest first, by cursor. */
export const ConsentsQuery = z.strictObject({
  email: SubjectEmail.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/).optional(),
});
export type ConsentsQuery = z.infer<typeof ConsentsQuery>;

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: SeqCursor.optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** A consent receipt as the admin API shows it. */
export const ConsentReceipt = z.object({
  id: z.uuid(),
  sessionId: z.uuid(),
  consentVersion: z.string(),
  consentTextSha256: z.string(),
  purposes: z.array(z.string()),
  pageOrigin: z.string(),
  pageUrl: z.string(),
  referrer: z.string(),
  utm: z.record(z.string(), z.string()),
  /** Where the consent came from: the widget's step, the page's script, a TCF CMP or Google Consent Mode. */
  consentSource: z.enum(['widget', 'api', 'tcf', 'gcm']),
  /** Ad click identifiers of the page (gclid, fbclid); emptied by erasure like UTM values. */
  clickIds: z.record(z.string(), z.string()),
  ipPrefix: z.string(),
  userAgentFamily: z.string(),
  createdAt: z.string(),
  redactedAt: z.string().nullable(),
  /** Bookings linked to this receipt by proof, and those its session's page reported. */
  bookingUids: z.array(z.string()),
});
export type ConsentReceipt = z.infer<typeof ConsentReceipt>;

/** One line of the GDPR audit log; never personal data. */
export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  // `subject`: the person's subject at the identity provider when a console session acted.
  actor: z.object({ kind: z.enum(['admin_token', 'environment_token', 'scheduler', 'console_session']), tokenId: z.string().nullable(), subject: z.string().optional() }),
  action: z.enum(['subject.export', 'subject.erase', 'consents.list', 'retention.update', 'retention.run']),
  subjectRef: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** The identifier of the subject export document format. */
export const SUBJECT_EXPORT_FORMAT = 'calbridge.subject-export.v1';
