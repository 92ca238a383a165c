import { authenticate, type Caller } from '../auth.js';
import type { SandboxContext } from '../context.js';
import { ApiError, requireApiVersion, sendSuccess, type RequestContext, type Router } from '../http.js';
import { eventTypeOutput } from '../outputs.js';

const VERSION = '2024-06-14';

/** Event types, API version 2024-06-14. */
export function registerEventTypes(router: Router, sx: SandboxContext): void {
  router.on('GET', '/v2/event-types', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const caller = optionalCaller(ctx, sx);
    const username = ctx.url.searchParams.get('username');
    const eventSlug = ctx.url.searchParams.get('eventSlug');
    if (eventSlug && !username) throw new ApiError(400, 'username is required when eventSlug is provided');
    const owner = username ? sx.store.userByUsername(username) : caller?.user;
    if (!owner) {
      if (username) throw new ApiError(404, `User with username=${username} not found`);
      throw new ApiError(400, 'username is required without authentication');
    }
    const isOwner = caller?.user.id === owner.id;
    let list = sx.store.eventTypesOf(owner.id).filter((e) => isOwner || !e.hidden);
    if (eventSlug) list = list.filter((e) => e.slug === eventSlug);
    const sort = ctx.url.searchParams.get('sortCreatedAt');
    if (sort === 'asc') list.sort((a, b) => a.id - b.id);
    if (sort === 'desc') list.sort((a, b) => b.id - a.id);
    sendSuccess(ctx.res, 200, list.map((e) => eventTypeOutput(e, owner, sx.appUrl())));
  });

  router.on('GET', '/v2/event-types/:eventTypeId', (ctx) => {
    requireApiVersion(ctx, VERSION);
    const { user } = authenticate(ctx, sx.store, sx.clock);
    const eventType = sx.store.eventTypes.get(Number(ctx.params['eventTypeId']));
    if (!eventType) throw new ApiError(404, `Event type with id=${ctx.params['eventTypeId']} not found`);
    if (eventType.ownerId !== user.id) throw new ApiError(403, 'Not allowed to access this event type');
    sendSuccess(ctx.res, 200, eventTypeOutput(eventType, user, sx.appUrl()));
  });
}

/** Operations where the document marks Authorization optional: validate it only when sent. */
export function optionalCaller(ctx: RequestContext, sx: SandboxContext): Caller | undefined {
  return ctx.req.headers.authorization ? authenticate(ctx, sx.store, sx.clock) : undefined;
}
