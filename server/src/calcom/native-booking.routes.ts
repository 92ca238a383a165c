import { NativeBookingRequest, SlotsQuery, type SessionScope } from '@calbridge/shared';
import { Router, type Request } from 'express';
import { IdempotencyKeyRequired } from './calcom.errors.js';
import { validate } from '../http/validate.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { widgetTenant } from '../widget/widget.routes.js';
import type { NativeBooking, SessionLink } from './native-booking.service.js';

/**
 * Verifies the widget's `Authorization: Bearer <session>` for a tenant and a
 * scope and returns the consent receipt it stands for, or throws. Widget
 * sessions belong to server/src/sessions; app.ts passes their verifier in.
 */
export type WidgetSessionCheck = (req: Request, tenant: TenantRecord, scope: SessionScope) => Promise<SessionLink>;

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

/** `GET /v1/widget/:tenant/slots` and `POST /v1/widget/:tenant/bookings`, both with the `bookings:create` scope. */
export function nativeBookingRoutes(
  native: NativeBooking,
  tenants: TenantsService,
  checkSession: WidgetSessionCheck,
  /** Counts the attempt against the client address's cap, or throws (sessions/session-check.ts). */
  admitAddress: (req: Request, tenant: TenantRecord) => Promise<void>,
): Router {
  const router = Router();

  router.get('/v1/widget/:tenant/slots', async (req, res) => {
    const tenant = await widgetTenant(tenants, req);
    await checkSession(req, tenant, 'bookings:create');
    const q = validate(SlotsQuery, req.query, 'query');
    res.set('Cache-Control', 'no-store').json(await native.slots(tenant, q));
  });

  router.post('/v1/widget/:tenant/bookings', async (req, res) => {
    const tenant = await widgetTenant(tenants, req);
    const link = await checkSession(req, tenant, 'bookings:create');
    const key = req.get('idempotency-key') ?? '';
    if (!IDEMPOTENCY_KEY.test(key)) throw new IdempotencyKeyRequired();
    const body = validate(NativeBookingRequest, req.body);
    await admitAddress(req, tenant);
    const { replayed, result } = await native.book(tenant, key, body, link);
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .set('Idempotent-Replayed', String(replayed))
      .json(result);
  });

  return router;
}
