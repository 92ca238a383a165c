import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomToken } from '../crypto/tokens.js';

export interface EmbeddedSecrets {
  CALBRIDGE_ENCRYPTION_KEYS: string;
  CALBRIDGE_ADMIN_TOKEN: string;
}

/**
 * Embedded (demo) mode has no operator to provide secrets, and the product has
 * no default secrets, so they are generated once and kept, readable by the
 * owner only, in the data directory. `created` tells the caller to print the
 * admin token this once.
 */
export function loadOrCreateEmbeddedSecrets(dataDir: string): { secrets: EmbeddedSecrets; created: boolean } {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    return { secrets: JSON.parse(readFileSync(file, 'utf8')) as EmbeddedSecrets, created: false };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets: EmbeddedSecrets = {
    CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    CALBRIDGE_ADMIN_TOKEN: randomToken('cbt_'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secrets, created: true };
}
