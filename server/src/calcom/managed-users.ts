import { z } from 'zod';
import { success } from './envelope.js';
import type { CalcomAuth, CalcomHttp, CalcomOperation, RateLimitObserver } from './http.js';

/**
 * Platform managed users, through the agency's platform OAuth client
 * (`x-cal-secret-key`). Deprecated by Cal.com for new customers, still served.
 */

const ManagedUserOutput = z.looseObject({
  id: z.number(),
  email: z.string(),
  username: z.string(),
  timeZone: z.string(),
});

/** `KeysDto`: expiries are epoch milliseconds. */
const ManagedUserKeys = z.looseObject({
  accessToken: z.string(),
  refreshToken: z.string(),
  accessTokenExpiresAt: z.number(),
  refreshTokenExpiresAt: z.number(),
});
type ManagedUserKeys = z.infer<typeof ManagedUserKeys>;

export const managedUserOperations = {
  create: {
    method: 'POST',
    path: '/v2/oauth-clients/{clientId}/users',
    response: success(ManagedUserKeys.extend({ user: ManagedUserOutput })),
    retry: 'not-idempotent',
  },
  remove: {
    method: 'DELETE',
    path: '/v2/oauth-clients/{clientId}/users/{userId}',
    response: success(ManagedUserOutput),
    retry: 'idempotent',
  },
  refresh: {
    method: 'POST',
    path: '/v2/oauth/{clientId}/refresh',
    response: success(ManagedUserKeys),
    // A refresh that reached Cal.com rotated the token: never sent twice.
    retry: 'not-idempotent',
  },
  /**
   * New tokens for a managed user without its refresh token. Every refresh deletes the previous
   * refresh token (tokens.repository.ts), so a refresh whose answer was lost leaves ours dead; this is
   * the way back (oauth-client-users.controller.ts `forceRefresh`).
   */
  forceRefresh: {
    method: 'POST',
    path: '/v2/oauth-clients/{clientId}/users/{userId}/force-refresh',
    response: success(ManagedUserKeys),
    retry: 'not-idempotent',
  },
} as const satisfies Record<string, CalcomOperation>;

export function managedUsersApi(http: CalcomHttp) {
  const platform = (clientId: string, secret: string): CalcomAuth => ({ kind: 'platform', clientId, secret });
  return {
    create: async (clientId: string, secret: string, input: { email: string; name: string; timeZone?: string }) =>
      (await http.request(managedUserOperations.create, { auth: platform(clientId, secret), params: { clientId }, body: input })).data,
    remove: async (clientId: string, secret: string, userId: number) =>
      (await http.request(managedUserOperations.remove, { auth: platform(clientId, secret), params: { clientId, userId } })).data,
    // With an observer (the shared budget's), a 429 is not retried here: the caller puts the refresh off.
    forceRefresh: async (clientId: string, secret: string, userId: number, rateLimit?: RateLimitObserver) =>
      (await http.request(managedUserOperations.forceRefresh, { auth: platform(clientId, secret), params: { clientId, userId }, ...(rateLimit ? { rateLimit } : {}) })).data,
    refresh: async (clientId: string, secret: string, refreshToken: string, rateLimit?: RateLimitObserver) =>
      (await http.request(managedUserOperations.refresh, { auth: platform(clientId, secret), params: { clientId }, body: { refreshToken }, ...(rateLimit ? { rateLimit } : {}) })).data,
  };
}
