import type { Config } from '../config.js';
import { bookingsApi } from './bookings.js';
import { eventTypesApi } from './event-types.js';
import { createCalcomHttp, type CalcomHttp, type CalcomHttpOptions } from './http.js';
import { managedUsersApi } from './managed-users.js';
import { meApi } from './me.js';
import { slotsApi } from './slots.js';
import { webhooksApi } from './webhooks.js';

/** The typed Cal.com API v2 client: one member per resource, all over one transport. */
function createCalcomClient(http: CalcomHttp) {
  return {
    http,
    bookings: bookingsApi(http),
    slots: slotsApi(http),
    eventTypes: eventTypesApi(http),
    me: meApi(http),
    webhooks: webhooksApi(http),
    managedUsers: managedUsersApi(http),
  };
}

export type CalcomClient = ReturnType<typeof createCalcomClient>;

export function calcomClientFor(config: Config, fetch: typeof globalThis.fetch, extra: Partial<CalcomHttpOptions> = {}): CalcomClient {
  return createCalcomClient(createCalcomHttp({ apiUrl: config.calcom.apiUrl, fetch, ...extra }));
}
