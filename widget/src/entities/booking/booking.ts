import type { NativeBookingRequest, NativeBookingResponse, SlotsQuery, SlotsResponse } from '@calbridge/shared';
import { widgetUrl } from '../../shared/api/request.js';
import { sendJson } from '../../shared/api/send.js';
import { isObj, isStr, must } from '../../shared/lib/read.js';

// Native mode's calls to the Calbridge server (Bearer session with `bookings:create`).

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i;
const DATE = /^\d{4}-\d\d-\d\d$/;
const isIso = (v: unknown): v is string => isStr(v, 40) && ISO.test(v);

/** Mirrors `SlotsResponse` from @calbridge/shared; null when `v` does not match. */
export function readSlots(v: unknown): SlotsResponse | null {
  return isObj(v) &&
    isStr(v.eventType, 100) &&
    isStr(v.timeZone, 64) &&
    Array.isArray(v.days) &&
    v.days.every(
      (d) => isObj(d) && isStr(d.date, 10) && DATE.test(d.date) && Array.isArray(d.slots) && d.slots.every((s) => isObj(s) && isIso(s.start) && isIso(s.end)),
    )
    ? (v as SlotsResponse)
    : null;
}

/** Mirrors `NativeBookingResponse` from @calbridge/shared; null when `v` does not match. */
export function readBooking(v: unknown): NativeBookingResponse | null {
  return isObj(v) && isStr(v.uid, 200) && isStr(v.status, 40) && isIso(v.start) && isIso(v.end) && Number.isInteger(v.eventTypeId)
    ? (v as NativeBookingResponse)
    : null;
}

/** `GET /v1/widget/:tenant/slots`. */
export const fetchSlots = async (server: string, tenant: string, token: string, q: SlotsQuery, signal?: AbortSignal): Promise<SlotsResponse> =>
  must(readSlots(await sendJson(widgetUrl(server, tenant, `slots?${new URLSearchParams(q)}`), { token }, signal)));

/**
 * `POST /v1/widget/:tenant/bookings`. `key` is the Idempotency-Key: the same key and body
 * make one booking however often they are sent (a double click, a retry after a lost answer).
 */
export const createBooking = async (server: string, tenant: string, token: string, key: string, body: NativeBookingRequest): Promise<NativeBookingResponse> =>
  must(readBooking(await sendJson(widgetUrl(server, tenant, 'bookings'), { method: 'POST', body, token, headers: { 'idempotency-key': key } })));
