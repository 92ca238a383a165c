import { CalcomWebhook } from '@calbridge/shared';
import type { BookingEvent } from '../bookings/bookings.projection.js';
import type { AppContext } from '../context.js';
import type { Tx } from '../db/db.js';
import * as repo from './erasure.repository.js';
import { emailsIn, pseudonymiseBookingColumns, pseudonymiseDelivery, type ErasedSet } from './pseudonymise.js';
import { existingHasher, normaliseEmail, type SubjectHasher } from './subject.js';

/**
 * Keeps erased people erased. The webhook intake and reconciliation pass what
 * they are about to store through here; when it mentions someone whose salted
 * hash is in `erased_subjects`, the stored copy is pseudonymised the way the
 * erasure did it (time and status kept, the person's data gone). A tenant that
 * never erased anyone costs one indexed query.
 */
export function createErasureGuard(ctx: Pick<AppContext, 'keyring' | 'clock'>) {
  async function erasedAmong(tx: Tx, tenantId: string, emails: string[], anyErased?: boolean): Promise<{ set: ErasedSet; emails: string[] } | null> {
    if (emails.length === 0) return null;
    // Shared with every other writer, exclusive with an erasure of the tenant: a delivery either
    // commits before the erasure reads (and is erased with the rest) or sees its erased_subjects row.
    // `anyErased`: the caller already ran the same two statements (deliveryScreenOpening) in its opening round trip.
    if (!(anyErased ?? (await lockForWriteThenAnyErased(tx, tenantId)))) return null;
    const hasher = await existingHasher(tx, ctx.keyring, tenantId, ctx.clock.now());
    if (!hasher) return null;
    const normalised = [...new Set(emails.map(normaliseEmail))];
    const hashes = normalised.map((e) => hasher.hash(e));
    const hit = await repo.erasedHashes(tx, hashes);
    if (hit.size === 0) return null;
    const erased = normalised.filter((e) => hit.has(hasher.hash(e).toString('hex')));
    return { set: erasedSet(hasher, erased), emails: erased };
  }

  /**
   * A verified delivery as it should be stored: unchanged, or rewritten
   * without the erased people in it (body and the parsed form alike). Every
   * stored body passes here, including ones we cannot read (`w` null): a body
   * that is not JSON has each erased address replaced in its text.
   */
  async function screenDelivery(
    tx: Tx,
    tenantId: string,
    body: Buffer,
    w: CalcomWebhook | null,
    checked?: ScreenCheck,
  ): Promise<{ body: Buffer; webhook: CalcomWebhook | null; pseudonymised: boolean }> {
    const emails = checked?.emails ?? deliveryEmails(body, w);
    const found = await erasedAmong(tx, tenantId, emails, checked?.anyErased);
    if (!found) return { body, webhook: w, pseudonymised: false };
    const text = body.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      let out = text;
      for (const e of found.emails) out = out.replace(new RegExp(e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), found.set.placeholder(e));
      return { body: Buffer.from(out, 'utf8'), webhook: null, pseudonymised: true };
    }
    const rewritten = pseudonymiseDelivery(value, found.set, found.emails);
    const parsed = CalcomWebhook.safeParse(rewritten);
    // The rewrite keeps every field the schema requires, so this holds; if it ever did not, store the rewrite and project nothing.
    const webhook: CalcomWebhook | null = parsed.success ? parsed.data : w ? { kind: 'other', trigger: w.trigger, createdAt: w.createdAt } : null;
    return { body: Buffer.from(JSON.stringify(rewritten), 'utf8'), webhook, pseudonymised: true };
  }

  /** A booking event (from reconciliation) without the erased people's data. */
  async function screenEvent(tx: Tx, tenantId: string, e: BookingEvent): Promise<BookingEvent> {
    const emails = [...(e.fields.attendees ?? []).map((a) => a.email), ...(e.fields.organizer?.email ? [e.fields.organizer.email] : [])];
    const found = await erasedAmong(tx, tenantId, emails);
    if (!found) return e;
    const cols = pseudonymiseBookingColumns({ attendees: e.fields.attendees ?? [], organizer: e.fields.organizer, metadata: e.fields.metadata }, found.set, found.emails);
    return {
      ...e,
      fields: { ...e.fields, title: null, cancellationReason: null, rejectionReason: null, attendees: e.fields.attendees ? cols.attendees : null, organizer: cols.organizer, metadata: cols.metadata },
    };
  }

  return { screenDelivery, screenEvent };
}

/** The addresses in a delivery that screening looks up: pure work, done before a connection is taken. */
export function deliveryEmails(body: Buffer, w: CalcomWebhook | null): string[] {
  return [...emailsIn(body.toString('utf8')), ...(w ? attendeeEmails(w) : [])];
}

/**
 * What {@link createErasureGuard}'s `screenDelivery` needs to know before it screens: the
 * delivery's addresses ({@link deliveryEmails}) and, when the caller ran
 * {@link deliveryScreenOpening} in its transaction's opening round trip, whether the tenant
 * has erased anyone (undefined: screening takes the lock and asks itself).
 */
export interface ScreenCheck {
  emails: string[];
  anyErased?: boolean;
}

/**
 * The lock and the "anyone erased?" check of screening as two statements for the opening
 * round trip of the tenant's transaction (`db.withTenant(id, fn, opening)`): the check takes its
 * snapshot after the lock is held, as in {@link lockForWriteThenAnyErased}. Null when the delivery
 * names no one (screening then takes no lock, as before).
 */
export function deliveryScreenOpening(tenantId: string, emails: string[]): string | null {
  return emails.length === 0 ? null : lockThenCheckSql(tenantId);
}

/**
 * The lock, then the check, as two statements of one simple query (the opening of a transaction
 * that stores deliveries not all known yet, or {@link lockForWriteThenAnyErased}); the tenant id
 * goes in as a literal, so it must be a uuid.
 */
export function lockThenCheckSql(tenantId: string): string {
  return repo.lockSharedThenAnyErasedSql(tenantId);
}

/** Whether the opening's check found an erased person (its results as `db.withTenant` gives them), or undefined without them. */
export function anyErasedFromOpening(opened: { rowCount: number | null }[] | undefined): boolean | undefined {
  const check = opened?.[1];
  return check ? (check.rowCount ?? 0) > 0 : undefined;
}

/** Taken by writers of personal data (shared): waits while an erasure of the tenant is running. */
export async function lockForWrite(tx: Tx, tenantId: string): Promise<void> {
  await repo.lockErasureShared(tx, tenantId);
}

/**
 * {@link lockForWrite}, then whether the tenant has erased anyone, in one round trip: two
 * statements of one simple query, so the second takes its snapshot after the lock is held
 * and sees an erasure that committed while we waited.
 */
async function lockForWriteThenAnyErased(tx: Tx, tenantId: string): Promise<boolean> {
  return anyErasedFromOpening(await repo.lockSharedThenAnyErased(tx, tenantId)) ?? false;
}

/** Taken by an erasure (exclusive): waits for writers in flight, then holds new ones until it commits. */
export async function lockForErasure(tx: Tx, tenantId: string): Promise<void> {
  await repo.lockErasureExclusive(tx, tenantId);
}

export function erasedSet(hasher: SubjectHasher, emails: string[]): ErasedSet {
  const set = new Set(emails.map(normaliseEmail));
  return { has: (email) => set.has(normaliseEmail(email)), placeholder: (email) => hasher.placeholder(email) };
}

function attendeeEmails(w: CalcomWebhook): string[] {
  if (w.kind === 'booking') return [...w.booking.attendees.map((a) => a.email), ...(w.booking.organizer?.email ? [w.booking.organizer.email] : [])];
  if (w.kind === 'no_show') return w.noShow.attendees.map((a) => a.email);
  return [];
}

