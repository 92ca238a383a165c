import { z } from 'zod';

// Lead scoring as data: a tenant's rule set (versioned; each PUT makes the
// next version) and the leads it scores. A lead is a person per tenant, keyed
// by lower-cased email; its score is the sum of the points of every rule that
// fired, and its explanation lists exactly those rules.

/** A rule's id: stable, shown in explanations (`company-domain`, `budget.high`). */
export const LeadRuleId = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, "_", "." or "-" (up to 64)');

/** A booking form field's name as Cal.com reports it in `responses` / `bookingFieldsResponses`. */
export const BookingFieldName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a booking form field name');

const Points = z.number().int().min(-1000).max(1000);
const Scalar = z.union([z.string().min(1).max(200), z.number(), z.boolean()]);

/**
 * Points for an answer in the booking form. With `equals`: the answer (or,
 * for a multiple choice, one of its options) equals one of the values,
 * strings compared case-insensitively. With `contains`: the answer contains
 * the text, case-insensitively. With `min`/`max` (inclusive): the first
 * number in the answer ("50-200" reads 50, "€10,000" reads 10000) is in
 * range, for company size or budget. With none of these: any non-empty answer.
 * The answers are those of the lead's latest booking that has the field.
 */
export const AnswerCondition = z
  .strictObject({
    kind: z.literal('answer'),
    field: BookingFieldName,
    equals: z.array(Scalar).min(1).max(100).optional(),
    contains: z.string().min(1).max(200).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .refine((c) => [c.equals !== undefined, c.contains !== undefined, c.min !== undefined || c.max !== undefined].filter(Boolean).length <= 1, {
    message: 'use one of equals, contains, or min/max',
  })
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min must not exceed max' });

/** Points when any of the lead's bookings is of one of these event types (by Cal.com id or slug). */
export const EventTypeCondition = z
  .strictObject({
    kind: z.literal('event_type'),
    eventTypeIds: z.array(z.number().int().min(0)).max(100).optional(),
    slugs: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/)).max(100).optional(),
  })
  .refine((c) => (c.eventTypeIds?.length ?? 0) + (c.slugs?.length ?? 0) > 0, { message: 'name at least one event type id or slug' });

/**
 * Points for the email's domain: `is: "free"` (a free-mail provider from the
 * list shipped with the server), `is: "company"` (any other domain), or one
 * of `domains` (exact, or a subdomain of one).
 */
export const EmailDomainCondition = z
  .strictObject({
    kind: z.literal('email_domain'),
    is: z.enum(['free', 'company']).optional(),
    domains: z.array(z.string().regex(/^[a-z0-9.-]{1,253}$/, 'a lower-case domain')).min(1).max(500).optional(),
  })
  .refine((c) => (c.is === undefined) !== (c.domains === undefined), { message: 'use exactly one of is or domains' });

/**
 * Points when one of the lead's bookings came with this UTM parameter (from
 * the widget's context or the booking's metadata): equal to one of `equals`
 * (case-insensitive), or present at all without `equals`.
 */
export const UtmCondition = z.strictObject({
  kind: z.literal('utm'),
  param: z.enum(['source', 'medium', 'campaign', 'term', 'content']),
  equals: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
});

/** Points once when the lead has at least `min` bookings that stand (not cancelled, rejected or replaced by a reschedule). */
export const RepeatBookingCondition = z.strictObject({
  kind: z.literal('repeat_booking'),
  min: z.number().int().min(2).max(1000),
});

/** Points for each cancelled or rejected booking (a reschedule is no cancellation), at most `maxCount` times. */
export const CancellationCondition = z.strictObject({
  kind: z.literal('cancellation'),
  maxCount: z.number().int().min(1).max(1000).optional(),
});

/** Points for each booking where the lead was marked a no-show, at most `maxCount` times. */
export const NoShowCondition = z.strictObject({
  kind: z.literal('no_show'),
  maxCount: z.number().int().min(1).max(1000).optional(),
});

export const LeadCondition = z.discriminatedUnion('kind', [
  AnswerCondition,
  EventTypeCondition,
  EmailDomainCondition,
  UtmCondition,
  RepeatBookingCondition,
  CancellationCondition,
  NoShowCondition,
]);
export type LeadCondition = z.infer<typeof LeadCondition>;

/** One scoring rule: when `when` holds, add `points` (negative to subtract); per occurrence for cancellations and no-shows. */
export const LeadRule = z.strictObject({
  id: LeadRuleId,
  description: z.string().min(1).max(200).optional(),
  points: Points,
  when: LeadCondition,
});
export type LeadRule = z.infer<typeof LeadRule>;

/** A grade band: a score of at least `min` gets `grade` (the highest band that fits). */
export const GradeBand = z.strictObject({
  grade: z.string().regex(/^[A-Za-z0-9+_-]{1,16}$/),
  min: z.number().int(),
});
export type GradeBand = z.infer<typeof GradeBand>;

/** Body of `PUT /v1/admin/tenants/:slug/lead-rules`: a whole rule set; it becomes the next version. */
export const LeadRuleSetInput = z
  .strictObject({
    rules: z.array(LeadRule).max(200),
    /** A score below every band's `min` has no grade (null). */
    bands: z.array(GradeBand).min(1).max(20),
    /**
     * Booking form fields that are marketing data: sent to CRMs only when the
     * attendee granted the marketing purpose (`follow_up`). UTM parameters
     * always count as marketing data.
     */
    marketingFields: z.array(BookingFieldName).max(100).default([]),
  })
  .refine((s) => new Set(s.rules.map((r) => r.id)).size === s.rules.length, { message: 'rule ids must be unique', path: ['rules'] })
  .refine((s) => new Set(s.bands.map((b) => b.grade)).size === s.bands.length, { message: 'grades must be unique', path: ['bands'] })
  .refine((s) => new Set(s.bands.map((b) => b.min)).size === s.bands.length, { message: 'band minimums must differ', path: ['bands'] });
export type LeadRuleSetInput = z.input<typeof LeadRuleSetInput>;
export type LeadRuleSetData = z.output<typeof LeadRuleSetInput>;

/** A rule set as the API returns it; version 0 is the built-in default (no PUT yet). */
export const LeadRuleSet = z.object({
  version: z.number().int().min(0),
  isDefault: z.boolean(),
  rules: z.array(LeadRule),
  bands: z.array(GradeBand),
  marketingFields: z.array(BookingFieldName),
  createdAt: z.string().nullable(),
});
export type LeadRuleSet = z.infer<typeof LeadRuleSet>;

/** One rule that fired: its points times how often it applied. */
export const LeadExplanationItem = z.object({
  ruleId: LeadRuleId,
  description: z.string().nullable(),
  /** The rule's points for one occurrence. */
  points: z.number().int(),
  count: z.number().int().min(1),
  /** points × count: this rule's share of the score. */
  total: z.number().int(),
});
export type LeadExplanationItem = z.infer<typeof LeadExplanationItem>;

/** A lead in the admin API. */
export const Lead = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  score: z.number().int(),
  grade: z.string().nullable(),
  ruleSetVersion: z.number().int().min(0),
  explanation: z.array(LeadExplanationItem),
  bookingCount: z.number().int(),
  marketingConsent: z.boolean(),
  scoredAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Lead = z.infer<typeof Lead>;

/** Query of `GET /v1/admin/tenants/:slug/leads`. */
export const ListLeadsQuery = z.strictObject({
  /** `-score` (default, highest first), `score`, `-createdAt` or `createdAt`. */
  sort: z.enum(['-score', 'score', '-createdAt', 'createdAt']).default('-score'),
  grade: z.string().regex(/^[A-Za-z0-9+_-]{1,16}$/).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).regex(/^[A-Za-z0-9_-]+$/).optional(),
});
export type ListLeadsQuery = z.infer<typeof ListLeadsQuery>;
