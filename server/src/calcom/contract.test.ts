import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bookingOperations } from './bookings.js';
import { eventTypeOperations } from './event-types.js';
import type { CalcomOperation } from './http.js';
import { managedUserOperations } from './managed-users.js';
import { meOperations } from './me.js';
import { slotOperations } from './slots.js';
import { webhookOperations } from './webhooks.js';

/**
 * Contract: every operation the client calls exists in Cal.com's API v2
 * document with the same `cal-api-version`, and every member our zod schemas
 * read is documented there with a compatible type; what we require, the
 * document requires. The document is never needed at run time.
 */

// The pinned copy kept in the repository (test/fixtures/calcom/SOURCE.md says where it came from).
const DOCUMENT = fileURLToPath(new URL('../../../test/fixtures/calcom/openapi-v2.json', import.meta.url));

type Json = Record<string, any>;

const ALL: Record<string, CalcomOperation> = {
  ...prefixed('bookings', bookingOperations),
  ...prefixed('slots', slotOperations),
  ...prefixed('eventTypes', eventTypeOperations),
  ...prefixed('me', meOperations),
  ...prefixed('webhooks', webhookOperations),
  ...prefixed('managedUsers', managedUserOperations),
};

/**
 * Places where the document is looser than its own prose, read on purpose:
 * the range-format slot items declare no `required`, while the description
 * says "each slot will be an object with start and end properties".
 */
const KNOWN_GAPS = new Set([
  'slots.list{}[].start: we require it, the document does not',
  'slots.list{}[].end: we require it, the document does not',
  // Real outputs carry any BookingStatus lower-cased (output.service.ts), which the document's enum omits.
  ...['create', 'get', 'cancel'].map((op) => `bookings.${op}.data.status: value "awaiting_host" is not in the document's enum`),
]);

/** Operations whose documented 200 schema is the `data` member, not the whole body. */
const ENVELOPE_LEFT_OUT = new Set(['slots.list']);

function prefixed(prefix: string, ops: Record<string, CalcomOperation>): Record<string, CalcomOperation> {
  return Object.fromEntries(Object.entries(ops).map(([k, v]) => [`${prefix}.${k}`, v]));
}

function resolve(doc: Json, s: Json | undefined): Json {
  let out = s ?? {};
  for (let i = 0; i < 20 && out.$ref; i += 1) {
    const path = String(out.$ref).replace(/^#\//, '').split('/');
    out = path.reduce((o: Json, k) => o?.[k], doc);
  }
  if (Array.isArray(out.allOf) && out.allOf.length === 1 && !out.properties) return resolve(doc, out.allOf[0]);
  return out;
}

function typeOf(s: Json): string | undefined {
  if (s.type) return Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
  if (s.properties || s.additionalProperties) return 'object';
  return undefined;
}

/** Differences between our (zod → JSON Schema) view and the document's schema, as readable lines. */
export function compare(doc: Json, ours: Json, theirsRaw: Json, path: string): string[] {
  return compareRaw(doc, ours, theirsRaw, path).filter((p) => !KNOWN_GAPS.has(p));
}

function compareRaw(doc: Json, ours: Json, theirsRaw: Json, path: string): string[] {
  const theirs = resolve(doc, theirsRaw);
  const branches = theirs.oneOf ?? theirs.anyOf;
  if (Array.isArray(branches)) {
    const results = branches.map((b: Json) => compare(doc, ours, b, path));
    return results.some((r) => r.length === 0) ? [] : results.sort((a, b) => a.length - b.length)[0]!;
  }
  if (Array.isArray(ours.anyOf)) {
    return ours.anyOf.filter((b: Json) => b.type !== 'null').flatMap((b: Json) => compare(doc, b, theirs, path));
  }
  const ourType = typeOf(ours);
  if (!ourType) return [];
  const theirType = typeOf(theirs);
  if (!theirType) return [];
  const numeric = (t: string) => t === 'number' || t === 'integer';
  if (ourType !== theirType && !(numeric(ourType) && numeric(theirType))) return [`${path}: we read ${ourType}, the document says ${theirType}`];
  const errors: string[] = [];
  const ourValues: unknown[] | undefined = ours.enum ?? (ours.const !== undefined ? [ours.const] : undefined);
  if (ourValues && Array.isArray(theirs.enum)) {
    for (const v of ourValues) if (!theirs.enum.includes(v)) errors.push(`${path}: value ${JSON.stringify(v)} is not in the document's enum`);
  }
  if (ourType === 'array') errors.push(...compare(doc, ours.items ?? {}, theirs.items ?? {}, `${path}[]`));
  if (ourType === 'object') {
    const theirProps: Json = theirs.properties ?? {};
    const theirRequired: string[] = theirs.required ?? [];
    for (const [key, schema] of Object.entries<Json>(ours.properties ?? {})) {
      const p = `${path}.${key}`;
      if (key in theirProps) errors.push(...compare(doc, schema, theirProps[key], p));
      else if (theirs.additionalProperties && typeof theirs.additionalProperties === 'object') {
        errors.push(...compare(doc, schema, theirs.additionalProperties, p));
      } else errors.push(`${p}: not in the document`);
      if ((ours.required ?? []).includes(key) && !theirRequired.includes(key)) errors.push(`${p}: we require it, the document does not`);
    }
    if (ours.additionalProperties && typeof ours.additionalProperties === 'object' && Object.keys(ours.additionalProperties).length > 0) {
      if (!theirs.additionalProperties || typeof theirs.additionalProperties !== 'object') errors.push(`${path}: we read a map, the document has none`);
      else errors.push(...compare(doc, ours.additionalProperties, theirs.additionalProperties, `${path}{}`));
    }
  }
  return errors;
}

describe('Cal.com API v2 contract', () => {
  const doc: Json = JSON.parse(readFileSync(DOCUMENT, 'utf8'));

  it('when our operations are looked up in the document, then each exists with the cal-api-version it requires', () => {
    const problems: string[] = [];
    for (const [name, op] of Object.entries(ALL)) {
      const entry: Json | undefined = doc.paths?.[op.path]?.[op.method.toLowerCase()];
      if (!entry) {
        problems.push(`${name}: ${op.method} ${op.path} is not in the document`);
        continue;
      }
      const header = (entry.parameters ?? []).find((p: Json) => p.in === 'header' && p.name === 'cal-api-version');
      const wanted = header?.required ? header.schema?.default : undefined;
      if (wanted !== op.apiVersion) problems.push(`${name}: we send cal-api-version ${op.apiVersion ?? 'none'}, the document requires ${wanted ?? 'none'}`);
    }
    expect(problems).toEqual([]);
    expect(Object.keys(ALL).length).toBeGreaterThanOrEqual(13);
  });

  it('when our response schemas are compared with the document, then every member we read is documented and compatible', () => {
    const problems: string[] = [];
    for (const [name, op] of Object.entries(ALL)) {
      const entry: Json = doc.paths[op.path][op.method.toLowerCase()];
      const okStatus = Object.keys(entry.responses).find((s) => s.startsWith('2'))!;
      const theirs = entry.responses[okStatus].content['application/json'].schema;
      let ours = z.toJSONSchema(op.response, { io: 'output', unrepresentable: 'any' }) as Json;
      // The document's schema for /v2/slots describes `data` alone; its own example shows the envelope around it.
      if (ENVELOPE_LEFT_OUT.has(name)) ours = ours.properties.data;
      problems.push(...compare(doc, ours, theirs, name));
    }
    expect(problems).toEqual([]);
  });

  it('when the checker meets a member the document lacks or a wrong type, then it reports both (the checker itself works)', () => {
    const ours = z.toJSONSchema(z.object({ uid: z.number(), invented: z.string() })) as Json;
    const problems = compare(doc, ours, { $ref: '#/components/schemas/BookingOutput_2024_08_13' }, 'probe');
    expect(problems).toEqual([
      'probe.uid: we read number, the document says string',
      'probe.invented: not in the document',
      'probe.invented: we require it, the document does not',
    ]);
  });

  it('when we send a booking or a webhook, then every field we send is one the document accepts', () => {
    const booking = doc.components.schemas.CreateBookingInput_2024_08_13;
    const attendee = resolve(doc, booking.properties.attendee);
    const sent = ['start', 'attendee', 'eventTypeSlug', 'username', 'guests', 'metadata', 'bookingFieldsResponses'];
    expect(sent.filter((k) => !(k in booking.properties))).toEqual([]);
    expect(['name', 'email', 'timeZone', 'language'].filter((k) => !(k in attendee.properties))).toEqual([]);
    const webhook = doc.components.schemas.CreateWebhookInputDto;
    expect(['subscriberUrl', 'triggers', 'active', 'secret'].filter((k) => !(k in webhook.properties))).toEqual([]);
    expect(doc.components.schemas.RefreshTokenInput.required).toEqual(['refreshToken']);
    expect(doc.components.schemas.OAuth2TokensDto.required).toEqual(expect.arrayContaining(['access_token', 'refresh_token', 'expires_in']));
  });
});
