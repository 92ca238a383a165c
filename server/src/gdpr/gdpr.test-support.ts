import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { emitCrmEvent } from '../crm/crm.outbox.js';
import { insertObserved, insertReceipt } from '../sessions/sessions.repository.js';
import type { TestApp } from '../test-support/app.js';
import { bookingBody, deliver } from '../webhooks/webhooks.test-support.js';

// Helpers of the GDPR tests (not a test file itself).

export interface SubjectFixture {
  subject: { email: string; name: string; note: string };
  other: { email: string; name: string };
  host: Record<string, unknown>;
  bookings: Record<'past' | 'future' | 'other' | 'later', { uid: string; bookingId: number; startTime: string; endTime: string; createdAt?: string }>;
  consent: { pageUrl: string; referrer: string; utm: Record<string, string> };
}

export const fx = JSON.parse(readFileSync(new URL('./fixtures/subject.json', import.meta.url), 'utf8')) as SubjectFixture;

/** A booking delivery for one person of the fixture, with a form answer that quotes them. */
export function personBooking(trigger: string, createdAt: string | Date, b: SubjectFixture['bookings']['past'], person: { email: string; name: string }, extra: Record<string, unknown> = {}): string {
  return bookingBody(trigger, createdAt, {
    uid: b.uid,
    bookingId: b.bookingId,
    startTime: b.startTime,
    endTime: b.endTime,
    title: `Intro call between Jane Host and ${person.name}`,
    organizer: fx.host,
    attendees: [{ name: person.name, email: person.email, timeZone: 'Europe/Berlin', language: { locale: 'de' } }],
    responses: {
      name: { label: 'your_name', value: person.name },
      email: { label: 'email_address', value: person.email },
      notes: { label: 'additional_notes', value: person === fx.subject ? fx.subject.note : 'see you' },
    },
    additionalNotes: person === fx.subject ? fx.subject.note : 'see you',
    metadata: { calbridge_tenant: extra.slug ?? 'gdpr', contact: person.email },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'slug')),
  });
}

/** Delivers a body and fails the test unless it was stored. */
export async function deliverOk(t: TestApp, slug: string, body: string, secret: string): Promise<void> {
  const res = await deliver(t.app, slug, body, { secret });
  if (res.status !== 200) throw new Error(`delivery refused: ${res.status} ${JSON.stringify(res.body)}`);
}

/**
 * Stores everything the fixture says about the subject and the other person
 * in tenant `slug`: bookings through the webhook intake, a consent receipt
 * and observation through the widget's repository, a lead, a CRM destination
 * and message, and a native booking request.
 */
export async function seedSubject(t: TestApp, tenantId: string, slug: string, secret: string): Promise<{ receiptId: string; leadId: string }> {
  const { past, future, other } = fx.bookings;
  await deliverOk(t, slug, personBooking('BOOKING_CREATED', past.createdAt!, past, fx.subject, { slug }), secret);
  await deliverOk(t, slug, personBooking('BOOKING_CREATED', future.createdAt!, future, fx.subject, { slug }), secret);
  await deliverOk(t, slug, personBooking('BOOKING_CREATED', other.createdAt!, other, fx.other, { slug }), secret);
  const now = t.clock.now();
  return t.database.db.withTenant(tenantId, async (tx) => {
    const sessionId = '7b0e4d4e-5f36-4a4e-9b8a-3b7f1a2c9d01';
    const receipt = await insertReceipt(tx, {
      tenantId,
      sessionId,
      consentVersion: 'v1',
      consentTextSha256: 'a'.repeat(64),
      purposes: ['booking', 'follow_up'],
      pageOrigin: 'https://www.acme.example',
      pageUrl: fx.consent.pageUrl,
      referrer: fx.consent.referrer,
      utm: fx.consent.utm,
      ipPrefix: '203.0.113.0/24',
      userAgentFamily: 'Firefox',
      createdAt: now,
    });
    await insertObserved(tx, {
      tenantId, uid: future.uid, sessionId, consentReceiptId: receipt.id, startTime: future.startTime, endTime: future.endTime,
      eventTypeId: 42, eventType: 'intro-call', status: 'accepted', observedAt: now,
    });
    const lead = await tx.query<{ id: string }>(
      `INSERT INTO leads (tenant_id, email, name, score, grade, explanation, booking_count, marketing_consent, scored_at, created_at, updated_at)
       VALUES ($1, $2, $3, 40, 'B', $4, 2, true, $5, $5, $5) RETURNING id`,
      [tenantId, fx.subject.email.toLowerCase(), fx.subject.name, JSON.stringify([{ ruleId: 'notes', description: `answer: ${fx.subject.note}`, points: 10, count: 1 }]), now],
    );
    const leadId = lead.rows[0]!.id;
    await tx.query(
      `INSERT INTO crm_destinations (tenant_id, kind, url, created_at, updated_at) VALUES ($1, 'webhook', 'https://crm.acme.example/hooks', $2, $2)`,
      [tenantId, now],
    );
    await emitCrmEvent(tx, { tenantId, type: 'lead.created', leadId, data: { email: fx.subject.email.toLowerCase(), name: fx.subject.name, score: 40 } }, { now });
    await tx.query(
      `INSERT INTO calcom_booking_requests (tenant_id, idempotency_key, request_hash, booking_uid, response) VALUES ($1, $2, $3, $4, $5)`,
      [tenantId, 'widget-click-0001', Buffer.alloc(32, 1), future.uid, JSON.stringify({ uid: future.uid, status: 'accepted', contact: fx.subject.email })],
    );
    return { receiptId: receipt.id, leadId };
  });
}

/**
 * The forms a string takes in a dump: as text (any case), and as the hex of
 * its UTF-8 bytes, which is how a bytea column (raw bodies) is dumped.
 */
export function expectAbsent(haystack: string, needle: string, where: string): void {
  const lower = haystack.toLowerCase();
  expect({ where, found: lower.includes(needle.toLowerCase()) }).toEqual({ where, found: false });
  for (const form of new Set([needle, needle.toLowerCase()])) {
    const hex = Buffer.from(form, 'utf8').toString('hex');
    expect({ where: `${where} (hex)`, found: lower.includes(hex) }).toEqual({ where: `${where} (hex)`, found: false });
  }
}

/** Reads a ZIP archive with the system `unzip` when there is one, else with a small reader of our own. */
export function unzipEntries(archive: Buffer, dir: string): Record<string, string> {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
  } catch {
    return readZip(archive);
  }
  const path = join(dir, 'export.zip');
  execFileSync('sh', ['-c', 'cat > "$1"', 'sh', path], { input: archive });
  execFileSync('unzip', ['-tq', path]);
  const names = execFileSync('unzip', ['-Z1', path], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return Object.fromEntries(names.map((n) => [n, execFileSync('unzip', ['-p', path, n], { encoding: 'utf8', maxBuffer: 64 << 20 })]));
}

/** Local file headers only (what our writer produces): name, deflated data. */
export function readZip(archive: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (archive.readUInt32LE(at) === 0x04034b50) {
    const method = archive.readUInt16LE(at + 8);
    const size = archive.readUInt32LE(at + 18);
    const nameLength = archive.readUInt16LE(at + 26);
    const extraLength = archive.readUInt16LE(at + 28);
    const name = archive.subarray(at + 30, at + 30 + nameLength).toString('utf8');
    const start = at + 30 + nameLength + extraLength;
    const data = archive.subarray(start, start + size);
    out[name] = (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    at = start + size;
  }
  return out;
}
