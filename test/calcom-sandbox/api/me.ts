import { authenticate } from '../auth.js';
import type { SandboxContext } from '../context.js';
import { sendSuccess, type Router } from '../http.js';
import { meOutput } from '../outputs.js';

/** `GET /v2/me` (no cal-api-version in the document). */
export function registerMe(router: Router, sx: SandboxContext): void {
  router.on('GET', '/v2/me', (ctx) => {
    const { user } = authenticate(ctx, sx.store, sx.clock);
    sendSuccess(ctx.res, 200, meOutput(user));
  });
}
