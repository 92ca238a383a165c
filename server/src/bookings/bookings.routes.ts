import { Router } from 'express';
import { z } from 'zod';
import { gatedTenant } from '../admin/admin.auth.js';
import { validate } from '../http/validate.js';
import { type BookingsService } from './bookings.service.js';
import { toBooking, toBookingConsent, toBookingEvent } from './bookings.views.js';

const ListQuery = z.strictObject({
  status: z.enum(['accepted', 'pending', 'cancelled', 'rejected', 'awaiting_host']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  email: z.string().min(3).max(320).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(1000).regex(/^[A-Za-z0-9_-]+$/).optional(),
});

const Uid = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

/** The booking records of the admin API (read only). Mounted behind adminAuth and the tenant gate. */
export function bookingsRoutes(bookings: BookingsService): Router {
  const router = Router();

  router.get('/v1/admin/tenants/:slug/bookings', async (req, res) => {
    const q = validate(ListQuery, req.query, 'query');
    const t = gatedTenant(res);
    const page = await bookings.list(t.id, q);
    res.json({ data: page.data.map(toBooking), nextCursor: page.nextCursor });
  });

  router.get('/v1/admin/tenants/:slug/bookings/:uid', async (req, res) => {
    const uid = validate(Uid, req.params.uid, 'path.uid');
    const t = gatedTenant(res);
    const { booking, events, consent } = await bookings.get(t.id, uid);
    res.json({
      ...toBooking(booking),
      // Bookings made through the widget link to the visitor's consent receipt; null otherwise.
      consent: toBookingConsent(consent),
      events: events.map((e) => toBookingEvent(e, e.id === booking.stateEventId)),
    });
  });

  return router;
}
