// A @web/test-runner reporter that writes the run's totals as JSON for the root `npm test`:
// { passed, failed, skipped, errors }, counting every test of every session (suites recursed);
// `errors` counts sessions (test files × browsers) that failed to load or run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Totals of one suite tree. */
export function countSuite(suite, totals = { passed: 0, failed: 0, skipped: 0 }) {
  for (const t of suite?.tests ?? []) {
    if (t.skipped) totals.skipped += 1;
    else if (t.passed) totals.passed += 1;
    else totals.failed += 1;
  }
  for (const s of suite?.suites ?? []) countSuite(s, totals);
  return totals;
}

/** Totals over sessions as wtr reports them. */
export function summarize(sessions) {
  const totals = { passed: 0, failed: 0, skipped: 0, errors: 0 };
  for (const session of sessions) {
    const t = countSuite(session.testResults);
    totals.passed += t.passed;
    totals.failed += t.failed;
    totals.skipped += t.skipped;
    const ran = t.passed + t.failed + t.skipped > 0;
    // A session that errored outside its tests, or failed without a failing test, did not run properly.
    if ((session.errors?.length ?? 0) > 0 || !session.testResults || (!session.passed && t.failed === 0) || !ran) totals.errors += 1;
  }
  return totals;
}

/** @param {{ file?: string }} [options] */
export function summaryReporter({ file = process.env.WTR_SUMMARY_FILE } = {}) {
  return {
    onTestRunFinished({ sessions }) {
      if (!file) return;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(summarize(sessions))}\n`);
    },
  };
}
