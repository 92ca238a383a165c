/**
 * Contract test: sandbox request and response bodies against Cal.com's API v2
 * OpenAPI document (pinned in test/fixtures/calcom/openapi-v2.json, OpenAPI 3.0.0).
 *
 * How the document's schemas are read (each choice explained where made):
 * - `$ref`s resolve inside the document (ajv, JSON pointers into components).
 * - OpenAPI 3.0 `nullable: true` becomes `anyOf [schema, {type: null}]`.
 * - `oneOf` is checked as `anyOf`: NestJS/Swagger emits `oneOf` over DTOs that
 *   are not mutually exclusive (e.g. the booking-field outputs share all their
 *   properties and `type` is a plain string), so a valid body can match two
 *   alternatives; requiring exactly one would reject Cal.com's own answers.
 * - A property-less `type: object` whose own `example`/`default` is a
 *   primitive (e.g. booking fields' `isDefault: {type: object, example: true}`,
 *   `slotInterval: {type: object, example: 60}`) is a Swagger artefact of an
 *   untyped DTO field; it also accepts that primitive type.
 * - `GET /v2/slots`: the document's response schema describes the `data` map
 *   (its example carries the envelope), and its default-format variant types
 *   the items as strings while its own example and Cal.com's source
 *   (SlotsOutputService_2024_09_04) send `{ start }` objects. The test checks
 *   `data` against the range variant, and the default format against the
 *   document's example shape.
 * - The document declares no error schemas; error bodies are checked against
 *   the shape of Cal.com's exception filters (FACTS.md / http-exception.filter.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_DEMO_API_KEY,
  SANDBOX_OAUTH_CLIENT_ID,
  SANDBOX_OAUTH_CLIENT_SECRET,
  SANDBOX_PLATFORM_CLIENT_ID,
  SANDBOX_PLATFORM_CLIENT_SECRET,
  startSandbox,
  type Sandbox,
} from './index.js';
import { callJson, weekdayAtUtc, type JsonResponse } from './test-support.js';

// The pinned copy kept in the repository (test/fixtures/calcom/SOURCE.md says where it came from).
const DOC_PATH = fileURLToPath(new URL('../fixtures/calcom/openapi-v2.json', import.meta.url));

type Json = Record<string, any>;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** Rewrites OpenAPI 3.0 schema dialect into JSON Schema ajv understands (see header). */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'nullable' || k === 'example' || k === 'discriminator') continue;
    out[k === 'oneOf' ? 'anyOf' : k] = toJsonSchema(v);
  }
  const n = node as Json;
  const sample = 'example' in n ? n['example'] : n['default'];
  if (n['type'] === 'object' && !n['properties'] && ['boolean', 'number', 'string'].includes(typeof sample)) {
    out['type'] = ['object', typeof sample];
  }
  if ((node as Json)['nullable'] === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

class Contract {
  private ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  private cache = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json) {
    this.ajv.addSchema({ $id: 'cal', components: toJsonSchema(doc['components']) as Json });
  }

  private operation(method: string, path: string): Json {
    const op = this.doc['paths']?.[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    return op;
  }

  private compile(key: string, schema: unknown): ValidateFunction {
    let v = this.cache.get(key);
    if (!v) {
      // Local refs (#/components/…) are made absolute against the added document.
      const absolute = JSON.parse(JSON.stringify(toJsonSchema(schema)).replaceAll('"#/components/', '"cal#/components/'));
      v = this.ajv.compile(absolute);
      this.cache.set(key, v);
    }
    return v;
  }

  private check(label: string, validate: ValidateFunction, value: unknown): void {
    if (!validate(value)) {
      const errors = (validate.errors ?? []).map((e) => `  at ${e.instancePath || '/'}: ${e.message} (${e.schemaPath})`).join('\n');
      throw new Error(`${label} does not match the OpenAPI schema:\n${errors}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`);
    }
  }

  response(method: string, path: string, res: JsonResponse): void {
    const schema = this.operation(method, path)['responses']?.[String(res.status)]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${method} ${path}: the document has no ${res.status} response (body ${JSON.stringify(res.body)})`);
    this.check(`${method} ${path} → ${res.status} response`, this.compile(`res ${method} ${path} ${res.status}`, schema), res.body);
  }

  request(method: string, path: string, body: unknown): void {
    const schema = this.operation(method, path)['requestBody']?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${method} ${path}: the document has no JSON request body`);
    this.check(`${method} ${path} request body`, this.compile(`req ${method} ${path}`, schema), body);
  }

  schema(name: string, value: unknown, label: string): void {
    this.check(label, this.compile(`schema ${name}`, { $ref: `#/components/schemas/${name}` }), value);
  }

  raw(): Json {
    return this.doc;
  }
}

const AUTH = { authorization: `Bearer ${SANDBOX_DEMO_API_KEY}` };
const BOOKINGS = { ...AUTH, 'cal-api-version': '2024-08-13' };
const SECRET = { 'x-cal-secret-key': SANDBOX_PLATFORM_CLIENT_SECRET };

let sandbox: Sandbox;
let contract: Contract;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  contract = new Contract(JSON.parse(readFileSync(DOC_PATH, 'utf8')) as Json);
});
afterAll(() => sandbox.close());

/** Sends a request, validating its JSON body first, then validates the response. */
async function exchange(
  method: string,
  template: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown; documented?: (body: Json) => Json } = {},
): Promise<JsonResponse> {
  const { documented, ...request } = opts;
  if (request.body !== undefined) contract.request(method, template, request.body);
  const res = await callJson(`${sandbox.url}${path}`, { method, ...request });
  // `documented` maps a field where Cal.com's source knowingly differs from the document back to the
  // documented type, so the rest of the body is still checked.
  contract.response(method, template, documented ? { ...res, body: documented(structuredClone(res.body)) } : res);
  return res;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The document types a webhook's `id` as a number; Cal.com's are UUID strings
 * (`model Webhook { id String @id }`, packages/prisma/schema.prisma). Asserts that, then restores the documented type.
 */
function webhookIdAsDocumented(body: Json): Json {
  for (const hook of Array.isArray(body['data']) ? body['data'] : [body['data']]) {
    expect(hook.id).toMatch(UUID);
    hook.id = 1;
  }
  return body;
}

describe('sandbox against the Cal.com API v2 OpenAPI document', () => {
  it('when reading the document, then it is OpenAPI 3.0 with the operations the sandbox serves', () => {
    const doc = contract.raw();
    expect(doc['openapi']).toMatch(/^3\.0\./);
    for (const p of ['/v2/me', '/v2/event-types', '/v2/slots', '/v2/bookings', '/v2/bookings/{bookingUid}/cancel', '/v2/webhooks', '/v2/auth/oauth2/token', '/v2/oauth/{clientId}/refresh']) {
      expect(doc['paths'][p], p).toBeDefined();
    }
  });

  it('when calling me, event types and slots, then the bodies match the document', async () => {
    sandbox.control.reset();
    await exchange('GET', '/v2/me', '/v2/me', { headers: AUTH });
    const list = await exchange('GET', '/v2/event-types', '/v2/event-types?username=demo', { headers: { 'cal-api-version': '2024-06-14' } });
    expect(list.body.data[0].slug).toBe('intro-call');
    await exchange('GET', '/v2/event-types', '/v2/event-types', { headers: { ...AUTH, 'cal-api-version': '2024-06-14' } });
    await exchange('GET', '/v2/event-types/{eventTypeId}', `/v2/event-types/${list.body.data[0].id}`, { headers: { ...AUTH, 'cal-api-version': '2024-06-14' } });

    const day = weekdayAtUtc(new Date(), 3, 0).toISOString().slice(0, 10);
    const slotsSchema = contract.raw()['paths']['/v2/slots']['get']['responses']['200']['content']['application/json']['schema'];
    const range = await callJson(`${sandbox.apiUrl}/slots?eventTypeSlug=intro-call&username=demo&start=${day}&end=${day}&format=range&timeZone=Europe/Rome`, {
      headers: { 'cal-api-version': '2024-09-04' },
    });
    expect(range.status).toBe(200);
    expect(range.body.status).toBe('success');
    expect(Object.keys(range.body.data)).toEqual([day]);
    contract['check']('GET /v2/slots (format=range) data', contract['compile']('slots range', slotsSchema.oneOf[1]), range.body.data);

    const time = await callJson(`${sandbox.apiUrl}/slots?eventTypeSlug=intro-call&username=demo&start=${day}&end=${day}`, { headers: { 'cal-api-version': '2024-09-04' } });
    const example = slotsSchema.oneOf[0].example;
    const exampleItemKeys = Object.keys((Object.values(example.data)[0] as Json[])[0]!);
    expect(Object.keys(time.body)).toEqual(Object.keys(example));
    for (const items of Object.values<Json[]>(time.body.data)) {
      for (const item of items) expect(Object.keys(item)).toEqual(exampleItemKeys);
    }
  });

  it('when creating, listing, getting, cancelling, rescheduling and marking absent, then bodies match the document', async () => {
    sandbox.control.reset();
    const create = {
      start: weekdayAtUtc(new Date(), 3, 10).toISOString(),
      eventTypeSlug: 'intro-call',
      username: 'demo',
      attendee: { name: 'Jo Bloggs', email: 'jo@example.com', timeZone: 'Europe/Paris', language: 'fr' },
      guests: ['guest@example.com'],
      metadata: { tenant: 'acme', ref: 'r-1' },
      bookingFieldsResponses: { company: 'Acme' },
    };
    const created = await exchange('POST', '/v2/bookings', '/v2/bookings', { headers: BOOKINGS, body: create });
    const uid = created.body.data.uid as string;
    const second = await exchange('POST', '/v2/bookings', '/v2/bookings', {
      headers: BOOKINGS,
      body: { ...create, start: weekdayAtUtc(new Date(), 3, 11).toISOString(), eventTypeId: created.body.data.eventTypeId, eventTypeSlug: undefined, username: undefined },
    });
    await exchange('GET', '/v2/bookings', '/v2/bookings?status=upcoming&take=1', { headers: BOOKINGS });
    await exchange('GET', '/v2/bookings/{bookingUid}', `/v2/bookings/${uid}`, { headers: BOOKINGS });
    await exchange('POST', '/v2/bookings/{bookingUid}/mark-absent', `/v2/bookings/${uid}/mark-absent`, {
      headers: BOOKINGS,
      body: { attendees: [{ email: 'jo@example.com', absent: true }] },
    });
    const moved = await exchange('POST', '/v2/bookings/{bookingUid}/reschedule', `/v2/bookings/${uid}/reschedule`, {
      headers: BOOKINGS,
      body: { start: weekdayAtUtc(new Date(), 4, 13).toISOString(), reschedulingReason: 'Clash' },
    });
    expect(moved.body.data.rescheduledFromUid).toBe(uid);
    await exchange('GET', '/v2/bookings/{bookingUid}', `/v2/bookings/${uid}`, { headers: BOOKINGS });
    await exchange('POST', '/v2/bookings/{bookingUid}/cancel', `/v2/bookings/${second.body.data.uid}/cancel`, {
      headers: BOOKINGS,
      body: { cancellationReason: 'Will travel' },
    });
    await exchange('GET', '/v2/bookings', '/v2/bookings', { headers: BOOKINGS });

    sandbox.control.seedEventType({ username: 'demo', slug: 'vetted', requiresConfirmation: true });
    const pending = await exchange('POST', '/v2/bookings', '/v2/bookings', {
      headers: BOOKINGS,
      body: { ...create, eventTypeSlug: 'vetted', start: weekdayAtUtc(new Date(), 5, 10).toISOString() },
    });
    expect(pending.body.data.status).toBe('pending');
    await exchange('POST', '/v2/bookings/{bookingUid}/confirm', `/v2/bookings/${pending.body.data.uid}/confirm`, { headers: BOOKINGS });
    const another = await exchange('POST', '/v2/bookings', '/v2/bookings', {
      headers: BOOKINGS,
      body: { ...create, eventTypeSlug: 'vetted', start: weekdayAtUtc(new Date(), 5, 11).toISOString() },
    });
    await exchange('POST', '/v2/bookings/{bookingUid}/decline', `/v2/bookings/${another.body.data.uid}/decline`, { headers: BOOKINGS, body: { reason: 'Full' } });
  });

  it('when managing webhooks, then bodies match the document', async () => {
    sandbox.control.reset();
    const created = await exchange('POST', '/v2/webhooks', '/v2/webhooks', {
      headers: AUTH,
      body: { subscriberUrl: 'http://127.0.0.1:9/hook', triggers: ['BOOKING_CREATED', 'BOOKING_CANCELLED'], active: true, secret: 'whsec', version: '2021-10-20' },
      documented: webhookIdAsDocumented,
    });
    const id = created.body.data.id as string;
    await exchange('GET', '/v2/webhooks', '/v2/webhooks', { headers: AUTH, documented: webhookIdAsDocumented });
    await exchange('GET', '/v2/webhooks/{webhookId}', `/v2/webhooks/${id}`, { headers: AUTH, documented: webhookIdAsDocumented });
    await exchange('PATCH', '/v2/webhooks/{webhookId}', `/v2/webhooks/${id}`, {
      headers: AUTH,
      body: { active: false, triggers: ['BOOKING_RESCHEDULED'] },
      documented: webhookIdAsDocumented,
    });
    await exchange('DELETE', '/v2/webhooks/{webhookId}', `/v2/webhooks/${id}`, { headers: AUTH, documented: webhookIdAsDocumented });
  });

  it('when managing platform users and their tokens, then bodies match the document', async () => {
    sandbox.control.reset();
    const base = `/v2/oauth-clients/${SANDBOX_PLATFORM_CLIENT_ID}/users`;
    const created = await exchange('POST', '/v2/oauth-clients/{clientId}/users', base, {
      headers: SECRET,
      body: { email: 'bob@example.com', name: 'Bob', timeZone: 'America/New_York', timeFormat: 12, weekStart: 'Sunday', locale: 'en', metadata: { plan: 'pro' } },
    });
    const userId = created.body.data.user.id as number;
    await exchange('GET', '/v2/oauth-clients/{clientId}/users', base, { headers: SECRET });
    await exchange('GET', '/v2/oauth-clients/{clientId}/users/{userId}', `${base}/${userId}`, { headers: SECRET });
    await exchange('PATCH', '/v2/oauth-clients/{clientId}/users/{userId}', `${base}/${userId}`, { headers: SECRET, body: { name: 'Bobby' } });
    const forced = await exchange('POST', '/v2/oauth-clients/{clientId}/users/{userId}/force-refresh', `${base}/${userId}/force-refresh`, { headers: SECRET });
    await exchange('POST', '/v2/oauth/{clientId}/refresh', `/v2/oauth/${SANDBOX_PLATFORM_CLIENT_ID}/refresh`, {
      headers: SECRET,
      body: { refreshToken: forced.body.data.refreshToken },
    });
    await exchange('DELETE', '/v2/oauth-clients/{clientId}/users/{userId}', `${base}/${userId}`, { headers: SECRET });
  });

  it('when using third-party OAuth, then token requests and responses match the document', async () => {
    sandbox.control.reset();
    // A confidential client: no PKCE (a confidential exchange may not carry code_verifier).
    const redirectUri = sandbox.control.oauthClient().redirectUris[0]!;
    const authorize = new URL(`${sandbox.appUrl}/auth/oauth2/authorize`);
    authorize.search = new URLSearchParams({
      client_id: SANDBOX_OAUTH_CLIENT_ID,
      redirect_uri: redirectUri,
      response_type: 'code',
      state: 's',
    }).toString();
    const location = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const grant = {
      grant_type: 'authorization_code',
      client_id: SANDBOX_OAUTH_CLIENT_ID,
      client_secret: SANDBOX_OAUTH_CLIENT_SECRET,
      code: location.searchParams.get('code')!,
      redirect_uri: redirectUri,
    };
    const tokens = await exchange('POST', '/v2/auth/oauth2/token', '/v2/auth/oauth2/token', { body: grant });
    await exchange('POST', '/v2/auth/oauth2/token', '/v2/auth/oauth2/token', {
      body: { grant_type: 'refresh_token', client_id: SANDBOX_OAUTH_CLIENT_ID, client_secret: SANDBOX_OAUTH_CLIENT_SECRET, refresh_token: tokens.body.refresh_token },
    });
    await exchange('GET', '/v2/auth/oauth2/clients/{clientId}', `/v2/auth/oauth2/clients/${SANDBOX_OAUTH_CLIENT_ID}`);
  });

  it('when a booking body lacks a required field, then the check fails naming the path and the schema rule', async () => {
    sandbox.control.reset();
    const created = await exchange('POST', '/v2/bookings', '/v2/bookings', {
      headers: BOOKINGS,
      body: {
        start: weekdayAtUtc(new Date(), 3, 12).toISOString(),
        eventTypeSlug: 'intro-call',
        username: 'demo',
        attendee: { name: 'Jo', email: 'jo@example.com', timeZone: 'UTC' },
      },
    });
    const broken = structuredClone(created.body);
    delete broken.data.attendees[0].displayEmail;
    broken.data.status = 'ACCEPTED';
    expect(() => contract.response('POST', '/v2/bookings', { ...created, body: broken })).toThrow(
      /POST \/v2\/bookings → 201 response does not match[\s\S]*\/data\/attendees\/0: must have required property 'displayEmail'[\s\S]*\/data\/status: must be equal to one of the allowed values/,
    );
  });

  it('when the sandbox sends a webhook, then its trigger is one the document lists', async () => {
    const triggers: string[] = contract.raw()['components']['schemas']['CreateWebhookInputDto']['properties']['triggers']['items']['enum'];
    const { WEBHOOK_TRIGGERS } = await import('./index.js');
    expect([...WEBHOOK_TRIGGERS].sort()).toEqual([...triggers].sort());
    for (const t of ['BOOKING_CREATED', 'BOOKING_CANCELLED', 'BOOKING_RESCHEDULED', 'BOOKING_REQUESTED', 'BOOKING_REJECTED', 'BOOKING_NO_SHOW_UPDATED']) {
      expect(triggers).toContain(t);
    }
  });
});

describe('sandbox error bodies (the document has no error schemas; shape from Cal.com source)', () => {
  it('when a booking does not exist or auth is missing, then the error envelope is Cal.com\'s', async () => {
    const missing = await callJson(`${sandbox.apiUrl}/bookings/nope`, { headers: BOOKINGS });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 'error', path: '/v2/bookings/nope', error: { code: 'NotFoundException' } });
    expect(typeof missing.body.error.message).toBe('string');
    expect(new Date(missing.body.timestamp).toISOString()).toBe(missing.body.timestamp);
    const noAuth = await callJson(`${sandbox.apiUrl}/me`);
    expect(noAuth.status).toBe(401);
    expect(noAuth.body.error.code).toBe('UnauthorizedException');
    const noVersion = await callJson(`${sandbox.apiUrl}/bookings`, { headers: AUTH });
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.error.message).toContain('cal-api-version');
  });
});
