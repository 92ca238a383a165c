import { z } from 'zod';
import { success } from './envelope.js';
import type { CalcomAuth, CalcomHttp, CalcomOperation } from './http.js';

/** `MeOutput`: who a token belongs to. */
const MeOutput = z.looseObject({
  id: z.number(),
  username: z.string(),
  email: z.string(),
  timeZone: z.string(),
});

export const meOperations = {
  get: { method: 'GET', path: '/v2/me', response: success(MeOutput), retry: 'idempotent' },
} as const satisfies Record<string, CalcomOperation>;

export function meApi(http: CalcomHttp) {
  return { get: async (auth: CalcomAuth) => (await http.request(meOperations.get, { auth })).data };
}
