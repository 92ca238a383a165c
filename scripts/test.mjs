// `npm test`: installs what it needs, starts a throwaway PostgreSQL cluster
// (the server binaries the product embeds), runs every suite (shared + server +
// sandbox + end-to-end under vitest, the widget under @web/test-runner in
// Chromium), stops the cluster and prints one summary line.
//
// `npm test -- <path or pattern> …` runs a subset: the vitest files matching the
// filters (after a build, which the end-to-end tests need), and the widget suite
// only when a filter names the widget. No typecheck in that mode.
import { readFileSync, existsSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { root, log, ensureDependencies, ensureChromium, startThrowawayPostgres } from './lib.mjs';

const filters = process.argv.slice(2).filter((a) => a !== '--');
const subset = filters.length > 0;
const pnpm = ensureDependencies();
const chromium = ensureChromium();
const pg = await startThrowawayPostgres();
log(`throwaway PostgreSQL on port ${pg.port}`);

const stop = () => pg.stop();
process.on('SIGINT', () => { stop(); process.exit(130); });
process.on('SIGTERM', () => { stop(); process.exit(143); });

const outDir = join(root, '.tmp', 'test-results');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const env = {
  ...process.env,
  CALBRIDGE_TEST_PG_URL: pg.url,
  CALBRIDGE_TEST_PGCTL: JSON.stringify(pg.pgCtl),
  CHROMIUM_PATH: chromium,
  WTR_SUMMARY_FILE: join(outDir, 'widget.json'),
};

const step = (name, cmd, args, opts = {}) => {
  log(name);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env, ...opts });
  return r.status === 0;
};

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
try {
  if (!subset && !step('typecheck', pnpm, ['-r', '--workspace-concurrency=1', 'typecheck'])) problems.push('typecheck');
  // ESLint, the architecture rules and knip, zero warnings (scripts/lint.mjs).
  if (!subset && !step('lint', process.execPath, [join(root, 'scripts', 'lint.mjs')])) problems.push('lint');
  if (!step('build', pnpm, ['-r', '--workspace-concurrency=1', 'build'])) problems.push('build');

  const vitestJson = join(outDir, 'vitest.json');
  const widgetFilters = filters.filter((f) => f.startsWith('widget'));
  const vitestFilters = filters.filter((f) => !f.startsWith('widget'));
  const runVitest = !subset || vitestFilters.length > 0;
  if (runVitest) step(subset ? `vitest: ${vitestFilters.join(' ')}` : 'vitest: shared, server, sandbox, end-to-end', pnpm, [
    'exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`, ...vitestFilters,
  ]);
  if (!runVitest) {
    // Only widget files were named.
  } else if (existsSync(vitestJson)) {
    const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) problems.push('a vitest file failed to load');
  } else problems.push('vitest wrote no results');

  const runWidget = !subset || widgetFilters.length > 0;
  if (runWidget) {
    const files = widgetFilters
      .map((f) => f.replace(/^widget\/?/, ''))
      .filter(Boolean)
      .map((f) => (f.endsWith('.ts') ? f : `${f.replace(/\/$/, '')}/**/*.test.ts`));
    step('widget: @web/test-runner in Chromium', pnpm, ['--filter', '@calbridge/widget', 'exec', 'wtr', ...(files.length ? ['--files', ...files] : [])]);
  }
  if (!runWidget) {
    // Not asked for.
  } else if (existsSync(env.WTR_SUMMARY_FILE)) {
    const r = JSON.parse(readFileSync(env.WTR_SUMMARY_FILE, 'utf8'));
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
    if (r.errors > 0) problems.push(`${r.errors} widget test file(s) failed to run`);
  } else problems.push('@web/test-runner wrote no results');
} finally {
  stop();
}

if (problems.length) log(`problems: ${problems.join('; ')}`);
const ok = failed === 0 && problems.length === 0 && passed > 0;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok ? 0 : 1);
