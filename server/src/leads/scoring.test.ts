import { readFileSync } from 'node:fs';
import { LeadRuleSetInput } from '@calbridge/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE_SET } from './default-rules.js';
import { firstNumber, FREE_MAIL_DOMAINS, gradeFor, scoreLead, type LeadFacts } from './scoring.js';

interface Case {
  name: string;
  facts: LeadFacts;
  expected: { score: number; grade: string | null; explanation: { ruleId: string; count: number; total: number }[] };
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/scoring-cases.json', import.meta.url), 'utf8')) as { ruleSet: unknown; cases: Case[] };
const ruleSet = LeadRuleSetInput.parse(fixture.ruleSet);

describe('lead scoring (fixture table)', () => {
  for (const c of fixture.cases) {
    it(`when ${c.name}, then score ${c.expected.score} grade ${c.expected.grade}`, () => {
      const r = scoreLead(ruleSet, c.facts);
      expect(r.score).toBe(c.expected.score);
      expect(r.grade).toBe(c.expected.grade);
      expect(r.explanation.map(({ ruleId, count, total }) => ({ ruleId, count, total }))).toEqual(c.expected.explanation);
      // The explanation adds up to the score, rule by rule.
      expect(r.explanation.reduce((s, e) => s + e.total, 0)).toBe(r.score);
    });
  }
});

describe('scoring helpers', () => {
  it('when answers hold numbers in prose, then the first number is read', () => {
    expect(firstNumber('50-200')).toBe(50);
    expect(firstNumber('€10,000')).toBe(10000);
    expect(firstNumber('1 000 000 USD')).toBe(1000000);
    expect(firstNumber('about 12.5k')).toBe(12.5);
    expect(firstNumber('n/a')).toBeNull();
  });

  it('when a score sits between bands, then it gets the highest band it reaches', () => {
    const bands = [{ grade: 'C', min: 0 }, { grade: 'A', min: 50 }, { grade: 'B', min: 25 }];
    expect([gradeFor(50, bands), gradeFor(49, bands), gradeFor(0, bands), gradeFor(-1, bands)]).toEqual(['A', 'B', 'C', null]);
  });

  it('when the default rule set is validated, then it passes the same schema a PUT must pass', () => {
    expect(LeadRuleSetInput.parse(DEFAULT_RULE_SET)).toEqual(DEFAULT_RULE_SET);
    expect(FREE_MAIL_DOMAINS.has('gmail.com')).toBe(true);
    expect(FREE_MAIL_DOMAINS.has('acme.example')).toBe(false);
  });

  it('when a rule set repeats a rule id or mixes matchers, then the schema refuses it', () => {
    const dup = { rules: [DEFAULT_RULE_SET.rules[0], DEFAULT_RULE_SET.rules[0]], bands: [{ grade: 'A', min: 0 }] };
    expect(LeadRuleSetInput.safeParse(dup).success).toBe(false);
    const mixed = { rules: [{ id: 'x', points: 1, when: { kind: 'answer', field: 'a', equals: ['b'], min: 3 } }], bands: [{ grade: 'A', min: 0 }] };
    expect(LeadRuleSetInput.safeParse(mixed).success).toBe(false);
  });
});
