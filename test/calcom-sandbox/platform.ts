import type { SandboxContext } from './context.js';
import { ApiError, jsonBody, optionalString, requiredString, sendSuccess, type RequestContext, type Router } from './http.js';
import { signJwt } from './jwt.js';
import { managedUserOutput } from './outputs.js';
import { LIFETIMES } from './seed.js';
import { isValidTimeZone } from './time.js';
import type { SandboxPlatformClient, SandboxUser } from './types.js';

/**
 * Platform managed users (deprecated by Cal.com for new customers, still
 * served): OAuth-client-authenticated CRUD plus token refresh with rotation.
 */
export function registerPlatform(router: Router, sx: SandboxContext): void {
  router.on('POST', '/v2/oauth-clients/:clientId/users', (ctx) => {
    const client = platformClient(ctx, sx);
    const body = jsonBody(ctx);
    const email = requiredString(body, 'email');
    const name = requiredString(body, 'name');
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new ApiError(400, 'email must be an email');
    // Cal.com stores managed users' emails as local+<clientId>@domain (getOAuthUserEmail).
    const [local, domain] = email.split('@') as [string, string];
    const storedEmail = `${local}+${client.clientId}@${domain}`;
    if ([...sx.store.users.values()].some((u) => u.email === storedEmail)) {
      throw new ApiError(409, 'User with the provided e-mail already exists.');
    }
    const timeZone = optionalString(body, 'timeZone') ?? 'Europe/London';
    if (!isValidTimeZone(timeZone)) throw new ApiError(400, `Invalid timeZone ${timeZone}`);
    const user = sx.store.addUser(
      { username: storedEmail.toLowerCase().replace(/[^a-z0-9]+/g, '-'), email: storedEmail, name, timeZone },
      {
        platformOAuthClientId: client.clientId,
        ...profileFields(body),
      },
    );
    const tokens = issue(sx, client.clientId, user.id);
    sendSuccess(ctx.res, 201, { user: managedUserOutput(user), ...tokens });
  });

  router.on('GET', '/v2/oauth-clients/:clientId/users', (ctx) => {
    const client = platformClient(ctx, sx);
    const q = ctx.url.searchParams;
    const emails = (q.get('emails') ?? '').split(',').filter(Boolean);
    let list = [...sx.store.users.values()].filter((u) => u.platformOAuthClientId === client.clientId);
    if (emails.length) {
      list = list.filter((u) => emails.some((e) => e === u.email || e === u.email.replace(`+${client.clientId}@`, '@')));
    }
    const offset = Number(q.get('offset') ?? 0);
    const limit = q.get('limit') === null ? list.length : Number(q.get('limit'));
    sendSuccess(ctx.res, 200, list.slice(offset, offset + limit).map(managedUserOutput));
  });

  router.on('GET', '/v2/oauth-clients/:clientId/users/:userId', (ctx) => {
    const client = platformClient(ctx, sx);
    sendSuccess(ctx.res, 200, managedUserOutput(managedUser(ctx, sx, client)));
  });

  router.on('PATCH', '/v2/oauth-clients/:clientId/users/:userId', (ctx) => {
    const client = platformClient(ctx, sx);
    const user = managedUser(ctx, sx, client);
    const body = jsonBody(ctx);
    const email = optionalString(body, 'email');
    if (email) {
      const [local, domain] = email.split('@');
      if (!local || !domain) throw new ApiError(400, 'email must be an email');
      user.email = `${local}+${client.clientId}@${domain}`;
    }
    const name = optionalString(body, 'name');
    if (name) user.name = name;
    const timeZone = optionalString(body, 'timeZone');
    if (timeZone) {
      if (!isValidTimeZone(timeZone)) throw new ApiError(400, `Invalid timeZone ${timeZone}`);
      user.timeZone = timeZone;
    }
    Object.assign(user, profileFields(body));
    sendSuccess(ctx.res, 200, managedUserOutput(user));
  });

  router.on('DELETE', '/v2/oauth-clients/:clientId/users/:userId', (ctx) => {
    const client = platformClient(ctx, sx);
    const user = managedUser(ctx, sx, client);
    const output = managedUserOutput(user);
    sx.store.deleteUser(user.id);
    sendSuccess(ctx.res, 200, output);
  });

  router.on('POST', '/v2/oauth-clients/:clientId/users/:userId/force-refresh', (ctx) => {
    const client = platformClient(ctx, sx);
    const user = managedUser(ctx, sx, client);
    revokeAll(sx, user.id);
    sendSuccess(ctx.res, 200, issue(sx, client.clientId, user.id));
  });

  router.on('POST', '/v2/oauth/:clientId/refresh', (ctx) => {
    const client = platformClient(ctx, sx);
    const refreshToken = requiredString(jsonBody(ctx), 'refreshToken');
    const issued = sx.store.managedRefreshTokens.get(refreshToken);
    // The document does not give the error for a bad refresh token; the sandbox answers 401.
    if (!issued || issued.clientId !== client.clientId || issued.expiresAt <= sx.clock().getTime()) {
      throw new ApiError(401, 'Invalid Refresh Token');
    }
    // Rotation: both old tokens stop working.
    revokeAll(sx, issued.userId);
    sx.stats.managedUserRefreshes += 1;
    sendSuccess(ctx.res, 200, issue(sx, client.clientId, issued.userId));
  });
}

/** Checks `x-cal-secret-key` against the platform client in the path. */
function platformClient(ctx: RequestContext, sx: SandboxContext): SandboxPlatformClient {
  const client = sx.store.platformClients.get(ctx.params['clientId']!);
  if (!client) throw new ApiError(404, `OAuth client with ID ${ctx.params['clientId']} not found`);
  const secret = ctx.req.headers['x-cal-secret-key'];
  if (!secret) throw new ApiError(401, 'OAuth client secret key (x-cal-secret-key header) missing');
  if (secret !== client.secret) throw new ApiError(401, 'Invalid OAuth client secret');
  return client;
}

function managedUser(ctx: RequestContext, sx: SandboxContext, client: SandboxPlatformClient): SandboxUser {
  const user = sx.store.users.get(Number(ctx.params['userId']));
  if (!user || user.platformOAuthClientId !== client.clientId) {
    throw new ApiError(404, `User with id ${ctx.params['userId']} not found`);
  }
  return user;
}

function profileFields(body: Record<string, unknown>): Partial<SandboxUser> {
  const out: Partial<SandboxUser> = {};
  const tf = body['timeFormat'];
  if (tf !== undefined) {
    if (tf !== 12 && tf !== 24) throw new ApiError(400, 'timeFormat must be 12 or 24');
    out.timeFormat = tf;
  }
  const weekStart = optionalString(body, 'weekStart');
  if (weekStart) out.weekStart = weekStart;
  const locale = optionalString(body, 'locale');
  if (locale) out.locale = locale;
  const avatarUrl = optionalString(body, 'avatarUrl');
  if (avatarUrl) out.avatarUrl = avatarUrl;
  const bio = optionalString(body, 'bio');
  if (bio) out.bio = bio;
  const metadata = body['metadata'];
  if (metadata !== undefined) {
    if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) throw new ApiError(400, 'metadata must be an object');
    out.metadata = metadata as Record<string, unknown>;
  }
  return out;
}

function revokeAll(sx: SandboxContext, userId: number): void {
  for (const map of [sx.store.managedAccessTokens, sx.store.managedRefreshTokens]) {
    for (const [k, t] of map) if (t.userId === userId) map.delete(k);
  }
}

/** `KeysDto`: expiries are epoch milliseconds (numbers in the document). */
function issue(sx: SandboxContext, clientId: string, userId: number): Record<string, unknown> {
  const now = sx.clock().getTime();
  const accessTokenExpiresAt = now + LIFETIMES.managedAccessMs;
  const refreshTokenExpiresAt = now + LIFETIMES.managedRefreshMs;
  // Payload per the document: clientId, ownerId, iat, expiresAt.
  const iat = Math.floor(now / 1000);
  const accessToken = signJwt({ clientId, ownerId: userId, iat, expiresAt: accessTokenExpiresAt });
  const refreshToken = signJwt({ clientId, ownerId: userId, iat, expiresAt: refreshTokenExpiresAt });
  sx.store.managedAccessTokens.set(accessToken, { userId, clientId, expiresAt: accessTokenExpiresAt });
  sx.store.managedRefreshTokens.set(refreshToken, { userId, clientId, expiresAt: refreshTokenExpiresAt });
  return { accessToken, refreshToken, accessTokenExpiresAt, refreshTokenExpiresAt };
}
