import { z } from 'zod';
import { success } from './envelope.js';
import type { CalcomAuth, CalcomHttp, CalcomOperation } from './http.js';

/** Event types, API version 2024-06-14. */
const EVENT_TYPES_API_VERSION = '2024-06-14';

const EventTypeOutput = z.looseObject({
  id: z.number(),
  slug: z.string(),
  title: z.string(),
  lengthInMinutes: z.number(),
  hidden: z.boolean(),
});
type EventTypeOutput = z.infer<typeof EventTypeOutput>;

export const eventTypeOperations = {
  list: {
    method: 'GET',
    path: '/v2/event-types',
    apiVersion: EVENT_TYPES_API_VERSION,
    response: success(z.array(EventTypeOutput)),
    retry: 'idempotent',
  },
} as const satisfies Record<string, CalcomOperation>;

export function eventTypesApi(http: CalcomHttp) {
  return {
    list: async (auth: CalcomAuth, q: { username?: string; eventSlug?: string } = {}) =>
      (await http.request(eventTypeOperations.list, { auth, query: { ...q } })).data,
  };
}
