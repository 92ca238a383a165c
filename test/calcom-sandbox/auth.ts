import { ApiError, type RequestContext } from './http.js';
import type { SandboxStore } from './store.js';
import type { SandboxUser } from './types.js';

/** How the caller authenticated. */
type AuthKind = 'apiKey' | 'oauth' | 'managedUser';

export interface Caller {
  user: SandboxUser;
  kind: AuthKind;
}

// Messages are Cal.com's (@calcom/platform-constants and the API auth guard).
const NO_AUTH =
  "No authentication method provided. Either pass an API key as 'Bearer' header or OAuth client credentials as 'x-cal-secret-key' and 'x-cal-client-id' headers";
const INVALID_ACCESS_TOKEN = 'Invalid Access Token.';
const ACCESS_TOKEN_EXPIRED = 'ACCESS_TOKEN_IS_EXPIRED';

/**
 * Resolves `Authorization: Bearer <token>`: an API key (`cal_test_…`,
 * `cal_live_…`), a third-party OAuth access token, or a managed user's
 * access token.
 */
export function authenticate(ctx: RequestContext, store: SandboxStore, now: () => Date): Caller {
  const header = ctx.req.headers.authorization;
  if (!header) throw new ApiError(401, NO_AUTH);
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError(401, INVALID_ACCESS_TOKEN);
  const token = match[1]!;

  if (token.startsWith('cal_')) {
    const userId = store.apiKeys.get(token);
    const user = userId === undefined ? undefined : store.users.get(userId);
    if (!user) throw new ApiError(401, 'Your api key is not valid');
    return { user, kind: 'apiKey' };
  }

  const issued = store.oauthAccessTokens.get(token) ?? store.managedAccessTokens.get(token);
  if (!issued) throw new ApiError(401, INVALID_ACCESS_TOKEN);
  if (issued.expiresAt <= now().getTime()) throw new ApiError(401, ACCESS_TOKEN_EXPIRED);
  const user = store.users.get(issued.userId);
  if (!user) throw new ApiError(401, INVALID_ACCESS_TOKEN);
  return { user, kind: store.oauthAccessTokens.has(token) ? 'oauth' : 'managedUser' };
}
