import { createHmac, randomBytes } from 'node:crypto';
import type { KeyRing } from '../crypto/keyring.js';
import type { Tx } from '../db/db.js';
import { tenantSecretStore } from '../tenants/tenants.service.js';
import { lockSubjectSalt } from './erasure.repository.js';

/** The tenant secret a subject's salted hash is keyed with (32 random bytes, sealed). */
const SUBJECT_SALT_KIND = 'gdpr_subject_salt';

/**
 * How a person is known once their data is gone: HMAC-SHA256 of the
 * normalised email under a per-tenant salt. The same email in two tenants
 * gives two unrelated hashes, and without the sealed salt the hash cannot be
 * tested against guessed emails.
 */
export interface SubjectHasher {
  hash(email: string): Buffer;
  /** Hex of {@link hash}: what receipts and the audit log name the subject by. */
  ref(email: string): string;
  /** An address that stands in for the subject's in records kept for their time and status. */
  placeholder(email: string): string;
}

/**
 * The domain of the addresses that stand in for erased people
 * (`erased-<16 hex>@erased.invalid`; `.invalid` is reserved, RFC 2606), so
 * no mail can ever go to one. Capabilities that act on attendee emails skip
 * these with {@link isErasedPlaceholder}.
 */
const ERASED_EMAIL_DOMAIN = 'erased.invalid';

/** True for an address an erasure put in place of a person's. */
export function isErasedPlaceholder(email: string): boolean {
  return /^erased-[0-9a-f]{16}@erased\.invalid$/.test(normaliseEmail(email));
}

/** Lower-case, trimmed: the form every lookup and hash uses. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function hasherFrom(salt: Buffer): SubjectHasher {
  const hash = (email: string) => createHmac('sha256', salt).update(normaliseEmail(email), 'utf8').digest();
  return {
    hash,
    ref: (email) => hash(email).toString('hex'),
    placeholder: (email) => `erased-${hash(email).toString('hex').slice(0, 16)}@${ERASED_EMAIL_DOMAIN}`,
  };
}

/** The tenant's hasher, or null when the tenant has no salt yet (so nobody was ever erased). Inside a tenant transaction. */
export async function existingHasher(tx: Tx, keyring: KeyRing, tenantId: string, now: Date): Promise<SubjectHasher | null> {
  const [row] = await tenantSecretStore.active(tx, SUBJECT_SALT_KIND, now);
  if (!row) return null;
  return hasherFrom(Buffer.from(keyring.decrypt(row.ciphertext, { tenantId, purpose: SUBJECT_SALT_KIND }), 'base64'));
}

/**
 * The tenant's hasher, creating the salt on first use. Two first uses racing
 * each make a salt; the transaction-level advisory lock keeps it to one.
 */
export async function tenantHasher(tx: Tx, keyring: KeyRing, tenantId: string, now: Date): Promise<SubjectHasher> {
  const found = await existingHasher(tx, keyring, tenantId, now);
  if (found) return found;
  await lockSubjectSalt(tx, tenantId);
  const again = await existingHasher(tx, keyring, tenantId, now);
  if (again) return again;
  const salt = randomBytes(32);
  await tenantSecretStore.insert(tx, tenantId, SUBJECT_SALT_KIND, keyring.encrypt(salt.toString('base64'), { tenantId, purpose: SUBJECT_SALT_KIND }), keyring.currentKeyId);
  return hasherFrom(salt);
}
