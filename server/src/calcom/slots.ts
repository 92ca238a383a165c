import { z } from 'zod';
import { success } from './envelope.js';
import type { CalcomAuth, CalcomHttp, CalcomOperation } from './http.js';

/** Slots, API version 2024-09-04. */
const SLOTS_API_VERSION = '2024-09-04';

/**
 * Calbridge asks with `format=range`: the document's schema for the default
 * format says the items are strings while its example and Cal.com's source
 * send `{ start }` objects; the range format is documented consistently.
 */
const RangeSlots = z.record(z.string(), z.array(z.looseObject({ start: z.string(), end: z.string() })));
type RangeSlots = z.infer<typeof RangeSlots>;

export const slotOperations = {
  list: {
    method: 'GET',
    path: '/v2/slots',
    apiVersion: SLOTS_API_VERSION,
    response: success(RangeSlots),
    retry: 'idempotent',
  },
} as const satisfies Record<string, CalcomOperation>;

export interface SlotsQuery {
  eventTypeSlug: string;
  username: string;
  start: string;
  end: string;
  timeZone: string;
}

export function slotsApi(http: CalcomHttp) {
  return {
    list: async (auth: CalcomAuth, q: SlotsQuery) => (await http.request(slotOperations.list, { auth, query: { ...q, format: 'range' } })).data,
  };
}
