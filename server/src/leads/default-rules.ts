import type { LeadRuleSetData } from '@calbridge/shared';

/**
 * The rule set of a tenant that has not set its own (version 0). Modest
 * points on signals every booking has (email domain, repeat bookings,
 * cancellations, no-shows) and on common form answers and UTM mediums; the
 * agency tunes it per client with PUT /lead-rules.
 */
export const DEFAULT_RULE_SET: LeadRuleSetData = {
  rules: [
    { id: 'company-email', description: 'Books with a company email address', points: 10, when: { kind: 'email_domain', is: 'company' } },
    { id: 'free-mail', description: 'Books with a free-mail address', points: -5, when: { kind: 'email_domain', is: 'free' } },
    { id: 'repeat-booking', description: 'Has booked more than once', points: 15, when: { kind: 'repeat_booking', min: 2 } },
    { id: 'company-size-50', description: 'Company of 50 people or more', points: 15, when: { kind: 'answer', field: 'company_size', min: 50 } },
    { id: 'budget-10k', description: 'Budget of 10,000 or more', points: 20, when: { kind: 'answer', field: 'budget', min: 10_000 } },
    { id: 'paid-traffic', description: 'Came from a paid campaign', points: 5, when: { kind: 'utm', param: 'medium', equals: ['cpc', 'ppc', 'paid', 'paidsocial', 'paid_social'] } },
    { id: 'cancellation', description: 'Each cancelled booking', points: -10, when: { kind: 'cancellation' } },
    { id: 'no-show', description: 'Each missed meeting', points: -20, when: { kind: 'no_show' } },
  ],
  bands: [
    { grade: 'A', min: 40 },
    { grade: 'B', min: 20 },
    { grade: 'C', min: 0 },
    { grade: 'D', min: -1000 },
  ],
  marketingFields: [],
};
