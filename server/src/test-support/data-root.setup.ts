import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One folder for every test app's data directory in this run (test-support/app.ts), removed at
// the end: the workers are ended without an exit event, so they cannot clean up after themselves.
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'calbridge-app-'));
  process.env.CALBRIDGE_TEST_DATA_ROOT = root;
  return () => rmSync(root, { recursive: true, force: true });
}
