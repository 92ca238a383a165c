import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

const key = `k1:${randomBytes(32).toString('base64')}`;
const valid = { CALBRIDGE_ENCRYPTION_KEYS: key, CALBRIDGE_ADMIN_TOKEN: 'x'.repeat(40), DATABASE_URL: 'postgres://u@localhost/db' };

function errorFor(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('when every required variable is set, then defaults fill the rest', () => {
    const c = parseConfig(valid);
    expect(c.port).toBe(8787);
    expect(c.encryptionKeys[0]!.id).toBe('k1');
    expect(c.publicUrl).toBe('http://localhost:8787');
  });

  it('when the encryption keys are missing, then start-up names the variable and has no default', () => {
    expect(errorFor({ ...valid, CALBRIDGE_ENCRYPTION_KEYS: '' })).toBe('CALBRIDGE_ENCRYPTION_KEYS is required');
  });

  it('when an encryption key is not 32 bytes, then the message says how to make one', () => {
    expect(errorFor({ ...valid, CALBRIDGE_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' })).toMatch(/^CALBRIDGE_ENCRYPTION_KEYS .*32 random bytes/);
  });

  it('when a real database is used without an admin token, then start-up stops', () => {
    expect(errorFor({ ...valid, CALBRIDGE_ADMIN_TOKEN: '' })).toMatch(/^CALBRIDGE_ADMIN_TOKEN is required/);
  });

  it('when the app pool goes through PgBouncer in transaction mode, then a session URL and unnamed statements can be set', () => {
    const c = parseConfig({ ...valid, DATABASE_SESSION_URL: 'postgres://u@db-direct/db', DATABASE_NAMED_STATEMENTS: 'false' });
    expect(c.databaseSessionUrl).toBe('postgres://u@db-direct/db');
    expect(c.databaseNamedStatements).toBe(false);
    expect(parseConfig(valid)).toMatchObject({ databaseSessionUrl: undefined, databaseNamedStatements: true });
    expect(errorFor({ ...valid, DATABASE_SESSION_URL: 'not a url' })).toMatch(/^DATABASE_SESSION_URL /);
  });

  it('when PORT is not a number, then the message names PORT', () => {
    expect(errorFor({ ...valid, PORT: 'eighty' })).toMatch(/^PORT /);
  });

  it('when only half of an OAuth client is configured, then start-up stops', () => {
    expect(errorFor({ ...valid, CALCOM_OAUTH_CLIENT_ID: 'abc' })).toMatch(/CALCOM_OAUTH_CLIENT_SECRET/);
  });

  it('when the console issuer is set without a client id, then start-up stops naming CALBRIDGE_OIDC_CLIENT_ID', () => {
    expect(errorFor({ ...valid, CALBRIDGE_OIDC_ISSUER: 'https://id.example.com' })).toMatch(/CALBRIDGE_OIDC_CLIENT_ID/);
  });

  it('when the console idle expiry is longer than the absolute one, then start-up stops', () => {
    expect(errorFor({ ...valid, CALBRIDGE_CONSOLE_IDLE_SECONDS: '7200', CALBRIDGE_CONSOLE_MAX_SECONDS: '3600' })).toMatch(/CALBRIDGE_CONSOLE_IDLE_SECONDS/);
  });

  it('when no console variable is set, then the roles claim is groups and sessions last 30 minutes idle, 12 hours at most', () => {
    expect(parseConfig(valid).oidc).toEqual({ issuer: undefined, clientId: undefined, clientSecret: undefined, rolesClaim: 'groups', idleSeconds: 1800, maxSeconds: 43200 });
  });

  it('when a configuration error is reported, then the secret values are not in it', () => {
    const message = errorFor({ ...valid, CALBRIDGE_ADMIN_TOKEN: 'short-secret-value' });
    expect(message).not.toContain('short-secret-value');
  });
});
