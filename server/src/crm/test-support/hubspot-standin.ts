import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';

/**
 * A local stand-in for the parts of HubSpot's CRM API v3 the HubSpot
 * destination uses, following HubSpot's documented request shapes:
 *
 *   POST  /crm/v3/objects/contacts/search    { filterGroups: [{ filters: [{ propertyName, operator: "EQ", value }] }], properties?, limit? }
 *   POST  /crm/v3/objects/contacts           { properties }                         → 201, 409 CONFLICT if the email exists
 *   PATCH /crm/v3/objects/contacts/{id}      { properties }
 *   POST  /crm/v3/objects/contacts/gdpr-delete { objectId, idProperty? }            → 204, 404; objectId is the
 *                                                  record id unless idProperty is "email"; the contact and its
 *                                                  associations go (recorded in `gdprDeleted`)
 *   POST  /crm/v3/objects/meetings           { properties (hs_timestamp required), associations?: [{ to: { id }, types: [{ associationCategory, associationTypeId }] }] }
 *   POST  /crm/v3/objects/meetings/search    (as contacts)
 *   PATCH /crm/v3/objects/meetings/{id}      { properties }
 *
 * Bearer token required; unknown properties are refused as HubSpot refuses
 * them (400 VALIDATION_ERROR). `failNext` makes the next requests fail.
 */

const CONTACT_PROPS = new Set(['email', 'firstname', 'lastname', 'phone', 'company', 'website', 'jobtitle', 'lifecyclestage']);
const MEETING_PROPS = new Set([
  'hs_timestamp', 'hs_meeting_title', 'hs_meeting_body', 'hs_internal_meeting_notes', 'hs_meeting_external_url',
  'hs_meeting_location', 'hs_meeting_start_time', 'hs_meeting_end_time', 'hs_meeting_outcome', 'hubspot_owner_id',
]);
const OUTCOMES = new Set(['SCHEDULED', 'COMPLETED', 'RESCHEDULED', 'NO_SHOW', 'CANCELED']);

interface Obj {
  id: string;
  properties: Record<string, string>;
  associations: { toId: string; typeId: number }[];
}

interface StandinRequest {
  method: string;
  path: string;
  body: unknown;
}

export async function startHubspotStandin(token: string) {
  const contacts = new Map<string, Obj>();
  const meetings = new Map<string, Obj>();
  const requests: StandinRequest[] = [];
  /** Contact ids removed by gdpr-delete, in order. */
  const gdprDeleted: string[] = [];
  let nextId = 100;
  let failures: { status: number; headers: Record<string, string> }[] = [];

  const app = express();
  app.use(express.json());
  const error = (res: Response, status: number, category: string, message: string) => res.status(status).json({ status: 'error', message, category, correlationId: 'standin' });

  app.use((req, res, next) => {
    requests.push({ method: req.method, path: req.path, body: req.body });
    if (req.get('authorization') !== `Bearer ${token}`) return void error(res, 401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found.');
    const f = failures.shift();
    if (f) return void res.status(f.status).set(f.headers).json({ status: 'error', message: 'standin failure', category: 'RATE_LIMITS' });
    next();
  });

  function checkProps(res: Response, props: unknown, allowed: Set<string>): props is Record<string, string> {
    if (!props || typeof props !== 'object' || Array.isArray(props)) {
      error(res, 400, 'VALIDATION_ERROR', 'properties must be an object');
      return false;
    }
    for (const [k, v] of Object.entries(props)) {
      if (!allowed.has(k)) {
        error(res, 400, 'VALIDATION_ERROR', `Property "${k}" does not exist`);
        return false;
      }
      if (typeof v !== 'string') {
        error(res, 400, 'VALIDATION_ERROR', `Property values must be strings (${k})`);
        return false;
      }
    }
    return true;
  }

  function search(store: Map<string, Obj>) {
    return (req: Request, res: Response) => {
      const groups = req.body?.filterGroups;
      if (!Array.isArray(groups) || groups.length === 0) return void error(res, 400, 'VALIDATION_ERROR', 'filterGroups required');
      const results = [...store.values()].filter((o) =>
        groups.some((g: { filters?: { propertyName: string; operator: string; value: string }[] }) =>
          (g.filters ?? []).every((f) => {
            if (f.operator !== 'EQ') throw new Error(`standin supports EQ only, got ${f.operator}`);
            const v = o.properties[f.propertyName];
            return f.propertyName === 'email' ? v?.toLowerCase() === String(f.value).toLowerCase() : v === f.value;
          }),
        ),
      );
      const limit = Math.min(Number(req.body.limit ?? 10), 200);
      res.json({ total: results.length, results: results.slice(0, limit).map((o) => ({ id: o.id, properties: o.properties, archived: false })) });
    };
  }

  function patch(store: Map<string, Obj>, allowed: Set<string>) {
    return (req: Request, res: Response) => {
      const o = store.get(String(req.params.id));
      if (!o) return void error(res, 404, 'OBJECT_NOT_FOUND', 'resource not found');
      if (!checkProps(res, req.body?.properties, allowed)) return;
      if (req.body.properties.hs_meeting_outcome && !OUTCOMES.has(req.body.properties.hs_meeting_outcome)) return void error(res, 400, 'VALIDATION_ERROR', 'bad outcome');
      Object.assign(o.properties, req.body.properties);
      res.json({ id: o.id, properties: o.properties, archived: false });
    };
  }

  app.post('/crm/v3/objects/contacts/search', search(contacts));
  app.post('/crm/v3/objects/meetings/search', search(meetings));
  app.post('/crm/v3/objects/contacts/gdpr-delete', (req, res) => {
    const { objectId, idProperty } = req.body ?? {};
    if (typeof objectId !== 'string' || objectId === '') return void error(res, 400, 'VALIDATION_ERROR', 'objectId is required');
    if (idProperty !== undefined && idProperty !== 'email' && idProperty !== 'hs_object_id') return void error(res, 400, 'VALIDATION_ERROR', `Unknown idProperty "${idProperty}"`);
    const found = [...contacts.values()].find((c) => (idProperty === 'email' ? c.properties.email?.toLowerCase() === objectId.toLowerCase() : c.id === objectId));
    if (!found) return void error(res, 404, 'OBJECT_NOT_FOUND', 'resource not found');
    contacts.delete(found.id);
    // A GDPR delete removes the contact's associations too (the meetings stay, unassociated).
    for (const m of meetings.values()) m.associations = m.associations.filter((a) => a.toId !== found.id);
    gdprDeleted.push(found.id);
    res.status(204).end();
  });
  app.post('/crm/v3/objects/contacts', (req, res) => {
    if (!checkProps(res, req.body?.properties, CONTACT_PROPS)) return;
    const email = req.body.properties.email;
    if (!email) return void error(res, 400, 'VALIDATION_ERROR', 'email required');
    const existing = [...contacts.values()].find((c) => c.properties.email === email);
    if (existing) return void error(res, 409, 'CONFLICT', `Contact already exists. Existing ID: ${existing.id}`);
    const o: Obj = { id: String(nextId++), properties: { ...req.body.properties }, associations: [] };
    contacts.set(o.id, o);
    res.status(201).json({ id: o.id, properties: o.properties, archived: false });
  });
  app.patch('/crm/v3/objects/contacts/:id', patch(contacts, CONTACT_PROPS));
  app.post('/crm/v3/objects/meetings', (req, res) => {
    if (!checkProps(res, req.body?.properties, MEETING_PROPS)) return;
    if (!req.body.properties.hs_timestamp) return void error(res, 400, 'VALIDATION_ERROR', 'hs_timestamp is required');
    const associations: Obj['associations'] = [];
    for (const a of req.body.associations ?? []) {
      const type = a?.types?.[0];
      if (!a?.to?.id || !type || type.associationCategory !== 'HUBSPOT_DEFINED' || typeof type.associationTypeId !== 'number') {
        return void error(res, 400, 'VALIDATION_ERROR', 'invalid association');
      }
      if (type.associationTypeId === 200 && !contacts.has(String(a.to.id))) return void error(res, 400, 'VALIDATION_ERROR', 'association target not found');
      associations.push({ toId: String(a.to.id), typeId: type.associationTypeId });
    }
    const o: Obj = { id: String(nextId++), properties: { ...req.body.properties }, associations };
    meetings.set(o.id, o);
    res.status(201).json({ id: o.id, properties: o.properties, archived: false });
  });
  app.patch('/crm/v3/objects/meetings/:id', patch(meetings, MEETING_PROPS));
  app.use((req, res) => error(res, 404, 'OBJECT_NOT_FOUND', `no route ${req.method} ${req.path}`));

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    contacts,
    meetings,
    requests,
    gdprDeleted,
    failNext(n: number, status: number, headers: Record<string, string> = {}) {
      failures = Array.from({ length: n }, () => ({ status, headers }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
