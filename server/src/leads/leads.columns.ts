// A lead as every capability reads it: the row type and its column list, shared by the leads
// repository and the GDPR export (which reads leads in its own transaction). Not a repository:
// no SQL runs here, so another capability may import it.
import type { LeadExplanationItem } from '@calbridge/shared';

export interface LeadRecord {
  id: string;
  email: string;
  name: string | null;
  score: number;
  grade: string | null;
  explanation: LeadExplanationItem[];
  ruleSetVersion: number;
  bookingCount: number;
  marketingConsent: boolean;
  scoredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The columns of a {@link LeadRecord}, as other capabilities (GDPR export) read them too. */
export const LEAD = `id, email, name, score, grade, explanation, rule_set_version AS "ruleSetVersion", booking_count AS "bookingCount",
  marketing_consent AS "marketingConsent", scored_at AS "scoredAt", created_at AS "createdAt", updated_at AS "updatedAt"`;
