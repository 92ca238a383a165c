import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { CHROMIUM_ARGS, chromiumPath } from '../scripts/chromium.mjs';
import { fakeBff } from './test/fake-bff.mjs';
import { frameworks } from './test/frameworks.mjs';
import { summaryReporter } from './test/summary-reporter.mjs';

// Debian's Chromium (see ../shared STACK notes): --no-sandbox is needed as root; a fresh
// profile per run keeps runs independent.
const userDataDir = mkdtempSync(join(tmpdir(), 'calbridge-wtr-'));
process.once('exit', () => rmSync(userDataDir, { recursive: true, force: true }));

export default {
  files: ['src/**/*.test.ts'],
  rootDir: '..',
  nodeResolve: { exportConditions: ['source', 'production'], browser: true },
  plugins: [esbuildPlugin({ ts: true, tsconfig: './tsconfig.json', target: 'es2022' })],
  middleware: [fakeBff(), frameworks()],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: chromiumPath(),
        headless: true,
        args: ['--headless=new', ...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`],
      },
    }),
  ],
  testFramework: { config: { timeout: 15_000 } },
  testsFinishTimeout: 180_000,
  reporters: [defaultReporter(), summaryReporter()],
};
