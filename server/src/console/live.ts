import { createHash } from 'node:crypto';
import { Router } from 'express';
import { gatedTenant } from '../admin/admin.auth.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { CrmService } from '../crm/crm.service.js';
import type { LeadsService } from '../leads/leads.service.js';
import type { WebhooksService } from '../webhooks/webhooks.service.js';

type LiveTopic = 'webhook-deliveries' | 'bookings' | 'leads' | 'crm';

export interface LiveOptions {
  /** How often the tenant's logs are looked at while someone watches. */
  pollMs: number;
  /** A stream ends after this; EventSource reconnects, and the session is checked again. */
  maxStreamMs: number;
}

export interface LiveSources {
  webhooks: Pick<WebhooksService, 'deliveries'>;
  bookings: Pick<BookingsService, 'list'>;
  leads: Pick<LeadsService, 'list'>;
  crm: Pick<CrmService, 'deliveries'>;
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url');

/**
 * `GET /v1/admin/tenants/:slug/events`: Server-Sent Events telling the console
 * which of the tenant's logs changed (`event: change`, `data: {"topics":[…]}`),
 * so the open page fetches them again without a reload. The server looks at the
 * newest entries of each log through its capability's service every `pollMs`
 * while a stream is open; nothing is looked at when nobody watches. Names only
 * topics: the data itself comes through the admin API, under the same checks.
 */
export function liveRoutes(sources: LiveSources, options: LiveOptions): Router {
  const router = Router();

  router.get('/v1/admin/tenants/:slug/events', async (req, res) => {
    // Behind the admin auth and the tenant gate (admin.auth.ts), like every /v1/admin/tenants/:slug route.
    const tenant = gatedTenant(res);

    async function fingerprints(): Promise<Record<LiveTopic, string>> {
      const [deliveries, bookings, leads, crm] = await Promise.all([
        sources.webhooks.deliveries(tenant.id, 5, null),
        sources.bookings.list(tenant.id, { limit: 5 }),
        sources.leads.list(tenant.id, { sort: '-createdAt', limit: 5 }),
        sources.crm.deliveries(tenant.id, { limit: 5 }),
      ]);
      return { 'webhook-deliveries': digest(deliveries.data), bookings: digest(bookings.data), leads: digest(leads.data), crm: digest(crm.data) };
    }

    let last = await fingerprints();
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.write(`retry: 2000\nevent: ready\ndata: {}\n\n`);

    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const end = setTimeout(() => stop(), options.maxStreamMs);
    function stop() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      clearTimeout(end);
      res.end();
    }
    req.on('close', stop);

    async function tick() {
      if (closed) return;
      try {
        const now = await fingerprints();
        const topics = (Object.keys(now) as LiveTopic[]).filter((k) => now[k] !== last[k]);
        last = now;
        if (topics.length > 0) res.write(`event: change\ndata: ${JSON.stringify({ topics })}\n\n`);
        else res.write(': idle\n\n');
      } catch {
        // The database hiccuped: end this stream; the browser reconnects in two seconds.
        stop();
        return;
      }
      timer = setTimeout(() => void tick(), options.pollMs);
    }
    timer = setTimeout(() => void tick(), options.pollMs);
  });

  return router;
}
