import { Router, type Request } from 'express';
import { AppError, IdempotencyKeyRequired, TenantNotFound } from '../errors.js';
import { validate } from '../http/validate.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { NativeBookingRequest, SlotsQuery, type NativeBooking } from './native-booking.service.js';

/**
 * Verifies the widget's `Authorization: Bearer <session>` for a tenant and a
 * scope, or throws. Widget sessions belong to server/src/sessions (another
 * capability); app.ts passes their verifier in.
 */
export type WidgetSessionCheck = (req: Request, tenant: TenantRecord, scope: 'booking') => Promise<void>;

/**
 * NOT DONE: stands in until widget sessions exist. Fails closed: without a
 * way to verify a session, native booking refuses every call rather than
 * booking for anyone who knows a tenant's slug.
 */
export const widgetSessionsNotAvailable: WidgetSessionCheck = async () => {
  throw new AppError('widget_sessions_unavailable', 501, 'Native booking needs widget sessions, which this server does not have yet.');
};

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

/** `GET /v1/widget/:tenant/slots` and `POST /v1/widget/:tenant/bookings`. */
export function nativeBookingRoutes(native: NativeBooking, tenants: TenantsService, checkSession: WidgetSessionCheck): Router {
  const router = Router();

  async function tenantOf(req: Request): Promise<TenantRecord> {
    const t = await tenants.find(String(req.params.tenant ?? ''));
    if (!t) throw new TenantNotFound();
    return t;
  }

  router.get('/v1/widget/:tenant/slots', async (req, res) => {
    const tenant = await tenantOf(req);
    await checkSession(req, tenant, 'booking');
    const q = validate(SlotsQuery, req.query, 'query');
    res.set('Cache-Control', 'no-store').json(await native.slots(tenant, q));
  });

  router.post('/v1/widget/:tenant/bookings', async (req, res) => {
    const tenant = await tenantOf(req);
    await checkSession(req, tenant, 'booking');
    const key = req.get('idempotency-key') ?? '';
    if (!IDEMPOTENCY_KEY.test(key)) throw new IdempotencyKeyRequired();
    const body = validate(NativeBookingRequest, req.body);
    const { replayed, result } = await native.book(tenant, key, body);
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .set('Idempotent-Replayed', String(replayed))
      .json(result);
  });

  return router;
}
