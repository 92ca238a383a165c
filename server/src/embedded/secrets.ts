import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomToken } from '../crypto/tokens.js';

export interface EmbeddedSecrets {
  CALBRIDGE_ENCRYPTION_KEYS: string;
  CALBRIDGE_ADMIN_TOKEN: string;
  /** The embedded PostgreSQL superuser's password (embedded/postgres.ts); never a configuration variable. */
  CALBRIDGE_EMBEDDED_DATABASE_PASSWORD: string;
}

function generate(): EmbeddedSecrets {
  return {
    CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    CALBRIDGE_ADMIN_TOKEN: randomToken('cbt_'),
    CALBRIDGE_EMBEDDED_DATABASE_PASSWORD: randomBytes(24).toString('base64url'),
  };
}

/**
 * Embedded (demo) mode has no operator to provide secrets, and the product has
 * no default secrets, so they are generated once and kept, readable by the
 * owner only, in the data directory. A file from an older version gains the
 * secrets it lacks (the ones it has are never replaced: data is encrypted with
 * them). `created` tells the caller to print the admin token this once.
 */
export function loadOrCreateEmbeddedSecrets(dataDir: string): { secrets: EmbeddedSecrets; created: boolean } {
  const file = join(dataDir, 'secrets.json');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<EmbeddedSecrets>) : null;
  const secrets = { ...generate(), ...existing };
  if (!existing || Object.keys(secrets).some((k) => !(k in existing))) {
    writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { secrets, created: !existing };
}
