/**
 * A local Cal.com stand-in for tests and the offline demo: API v2 subset,
 * platform managed users, third-party OAuth, webhooks with fault knobs, and a
 * booking page that works inside `@calcom/embed-core`. State is in memory.
 *
 * @packageDocumentation
 */
import type { AddressInfo } from 'node:net';
import { BookingService } from './booking-service.js';
import { emptyStats, type SandboxContext } from './context.js';
import { createControl, type SandboxControl } from './control.js';
import { SANDBOX_OAUTH_DEFAULT_REDIRECT_URIS } from './seed.js';
import { buildRouter, createSandboxServer } from './server.js';
import { SandboxStore } from './store.js';
import { WebhookDispatcher, type DispatcherOptions } from './webhooks.js';

export * from './seed.js';
export { calWebhookSignature, NO_FAULTS } from './webhooks.js';
export type { DeliveryAttempt, DeliveryRecord, DeliveryState, WebhookFaults } from './webhooks.js';
export type { SandboxControl, ControlBooking, OAuthClientRegistration, LooseBooking } from './control.js';
export type { SandboxStats, OAuthBehaviour } from './context.js';
export type { UserSeed, EventTypeSeed } from './store.js';
export { WEBHOOK_TRIGGERS } from './api/webhooks.js';

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Origin to advertise (URLs in outputs, `url`), when it differs from the bound address. */
  publicUrl?: string;
  /** Source of "now" for slots, token expiry and timestamps. Default: the system clock. */
  clock?: () => Date;
  /** Used for webhook deliveries. Default: global `fetch`. */
  fetch?: typeof fetch;
  /** Gap between webhook attempts. Default 5 minutes (Cal.com's minimum); make it small in tests. */
  webhookRetryDelayMs?: number;
  /** Redirect URIs registered for the seeded OAuth client. */
  oauthRedirectUris?: readonly string[];
}

/** A running sandbox. */
export interface Sandbox {
  /** Origin, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** `${url}/v2`, the API v2 base. */
  apiUrl: string;
  /** Cal.com web app origin (booking pages, embed, OAuth authorize page); same as `url`. */
  appUrl: string;
  /** Test control handle. */
  control: SandboxControl;
  /** Stops listening, cancels pending webhook retries and closes connections. */
  close(): Promise<void>;
}

/** Starts a sandbox and resolves once it is listening. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const baseClock = opts.clock ?? (() => new Date());
  // `control.advanceTime` moves the sandbox's own "now" ahead of the given clock.
  const offset = { ms: 0 };
  const clock = (): Date => new Date(baseClock().getTime() + offset.ms);
  const host = opts.host ?? '127.0.0.1';
  const defaultRetryDelayMs = opts.webhookRetryDelayMs ?? 5 * 60 * 1000;
  let publicUrl = opts.publicUrl?.replace(/\/+$/, '') ?? '';

  const store = new SandboxStore(clock, opts.oauthRedirectUris ?? SANDBOX_OAUTH_DEFAULT_REDIRECT_URIS);
  const dispatcherOptions: DispatcherOptions = {
    store,
    fetch: opts.fetch ?? globalThis.fetch,
    clock,
    maxAttempts: 3,
    retryDelayMs: defaultRetryDelayMs,
  };
  const webhooks = new WebhookDispatcher(dispatcherOptions);
  const sx: SandboxContext = {
    store,
    webhooks,
    clock,
    appUrl: () => publicUrl,
    stats: emptyStats(),
    oauth: { username: 'demo', deny: false, refreshTokens: 'rotating' },
    rateLimit: { limits: null, windowMs: 60_000, blockMs: 60_000, windows: new Map() },
    bookings: undefined as unknown as BookingService,
  };
  sx.bookings = new BookingService(store, webhooks, clock, sx.appUrl);
  const control = createControl(sx, {
    defaultRetryDelayMs,
    setRetryDelay: (ms) => {
      dispatcherOptions.retryDelayMs = ms;
    },
    resetStats: () => Object.assign(sx.stats, emptyStats()),
    advanceClock: (ms) => {
      offset.ms += ms;
    },
    resetClock: () => {
      offset.ms = 0;
    },
  });

  const server = createSandboxServer(buildRouter(sx, control), sx);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const bound = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!publicUrl) publicUrl = bound;

  return {
    url: publicUrl,
    apiUrl: `${publicUrl}/v2`,
    appUrl: publicUrl,
    control,
    async close() {
      webhooks.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
