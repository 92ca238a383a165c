import type { GradeBand, LeadCondition, LeadExplanationItem, LeadRule, LeadRuleSetData } from '@calbridge/shared';
import freeMail from './free-mail-domains.json' with { type: 'json' };

/**
 * The scoring engine: a pure function of a rule set and what we know about a
 * lead. No I/O, no clock, so the same facts always give the same score and
 * explanation (and table tests can pin them).
 */

/** What one booking tells about its lead. */
export interface BookingFacts {
  uid: string;
  /** Lower case, as stored: accepted, pending, cancelled, rejected, awaiting_host. */
  status: string;
  eventTypeId: number | null;
  /** The event type's slug, when a delivery named it. */
  eventSlug: string | null;
  /** Replaced by a reschedule (Cal.com cancels the original): neither a booking that stands nor a cancellation. */
  replaced: boolean;
  /** The lead was marked a no-show for this booking. */
  noShow: boolean;
  /** Booking form answers by field name (values as Cal.com sent them). */
  answers: Record<string, unknown>;
  /** UTM parameters by name (source, medium, campaign, term, content). */
  utm: Record<string, string>;
}

export interface LeadFacts {
  email: string;
  /** Oldest first: later bookings' answers win. */
  bookings: BookingFacts[];
}

export interface ScoreResult {
  score: number;
  grade: string | null;
  explanation: LeadExplanationItem[];
}

/** Free-mail domains shipped as data (free-mail-domains.json). */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set(freeMail.domains);

const isCancelled = (b: BookingFacts) => !b.replaced && (b.status === 'cancelled' || b.status === 'rejected');
const stands = (b: BookingFacts) => !b.replaced && b.status !== 'cancelled' && b.status !== 'rejected';

/** Cal.com webhooks send `{ label, value }` per answer; API v2 sends the value alone. */
export function answerValue(raw: unknown): unknown {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'value' in raw) return (raw).value;
  return raw;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);
}

/** The answer to a field from the latest booking that has one. */
function latestAnswer(facts: LeadFacts, field: string): unknown {
  for (let i = facts.bookings.length - 1; i >= 0; i--) {
    const v = answerValue(facts.bookings[i]!.answers[field]);
    if (!isEmpty(v)) return v;
  }
  return undefined;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
const norm = (v: unknown) => text(v).trim().toLowerCase();

/** The first number in an answer: "50-200" → 50, "€10,000" → 10000, "1.5k" → 1.5. */
export function firstNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = /-?\d+(?:\.\d+)?/.exec(v.replace(/(\d)[,\s'](?=\d{3}(\D|$))/g, '$1'));
  return m ? Number(m[0]) : null;
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** How many times a condition holds for the lead (0: the rule does not fire). */
function occurrences(when: LeadCondition, facts: LeadFacts): number {
  switch (when.kind) {
    case 'answer': {
      const v = latestAnswer(facts, when.field);
      if (isEmpty(v)) return 0;
      const values = Array.isArray(v) ? v : [v];
      if (when.equals) {
        const wanted = new Set(when.equals.map(norm));
        return values.some((x) => wanted.has(norm(x))) ? 1 : 0;
      }
      if (when.contains !== undefined) {
        const needle = when.contains.toLowerCase();
        return values.some((x) => norm(x).includes(needle)) ? 1 : 0;
      }
      if (when.min !== undefined || when.max !== undefined) {
        const n = firstNumber(values[0]);
        if (n === null) return 0;
        return (when.min === undefined || n >= when.min) && (when.max === undefined || n <= when.max) ? 1 : 0;
      }
      return 1;
    }
    case 'event_type': {
      const ids = new Set(when.eventTypeIds ?? []);
      const slugs = new Set((when.slugs ?? []).map((s) => s.toLowerCase()));
      return facts.bookings.some((b) => (b.eventTypeId !== null && ids.has(b.eventTypeId)) || (b.eventSlug !== null && slugs.has(b.eventSlug.toLowerCase()))) ? 1 : 0;
    }
    case 'email_domain': {
      const domain = domainOf(facts.email);
      if (when.is === 'free') return FREE_MAIL_DOMAINS.has(domain) ? 1 : 0;
      if (when.is === 'company') return FREE_MAIL_DOMAINS.has(domain) ? 0 : 1;
      return (when.domains ?? []).some((d) => domain === d || domain.endsWith(`.${d}`)) ? 1 : 0;
    }
    case 'utm': {
      const wanted = when.equals ? new Set(when.equals.map((s) => s.toLowerCase())) : null;
      return facts.bookings.some((b) => {
        const v = b.utm[when.param];
        return v !== undefined && v !== '' && (wanted === null || wanted.has(v.toLowerCase()));
      })
        ? 1
        : 0;
    }
    case 'repeat_booking':
      return facts.bookings.filter(stands).length >= when.min ? 1 : 0;
    case 'cancellation': {
      const n = facts.bookings.filter(isCancelled).length;
      return Math.min(n, when.maxCount ?? n);
    }
    case 'no_show': {
      const n = facts.bookings.filter((b) => b.noShow).length;
      return Math.min(n, when.maxCount ?? n);
    }
  }
}

/** The grade of the highest band whose minimum the score reaches; null below every band. */
export function gradeFor(score: number, bands: GradeBand[]): string | null {
  const sorted = [...bands].sort((a, b) => b.min - a.min);
  return sorted.find((b) => score >= b.min)?.grade ?? null;
}

/** Scores a lead: every rule that fires adds points × occurrences, and is listed in the explanation in rule order. */
export function scoreLead(ruleSet: Pick<LeadRuleSetData, 'rules' | 'bands'>, facts: LeadFacts): ScoreResult {
  const explanation: LeadExplanationItem[] = [];
  for (const rule of ruleSet.rules) {
    const count = occurrences(rule.when, facts);
    if (count > 0) explanation.push({ ruleId: rule.id, description: rule.description ?? null, points: rule.points, count, total: rule.points * count });
  }
  const score = explanation.reduce((s, e) => s + e.total, 0);
  return { score, grade: gradeFor(score, ruleSet.bands), explanation };
}

/** Rules that read marketing data (UTM, or an answer flagged as marketing): left out of what leaves without marketing consent. */
export function isMarketingRule(rule: LeadRule, marketingFields: readonly string[]): boolean {
  return rule.when.kind === 'utm' || (rule.when.kind === 'answer' && marketingFields.includes(rule.when.field));
}
