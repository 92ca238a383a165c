import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import {
  SANDBOX_DEMO_EVENT_SLUG,
  SANDBOX_DEMO_USERNAME,
  SANDBOX_OAUTH_CLIENT_ID,
  SANDBOX_OAUTH_CLIENT_SECRET,
  SANDBOX_PLATFORM_CLIENT_ID,
  SANDBOX_PLATFORM_CLIENT_SECRET,
  startSandbox,
  type Sandbox,
} from '../../../test/calcom-sandbox/index.js';
import { createApp, createContext } from '../app.js';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { createDb, type Db } from '../db/db.js';
import { asAdmin, capturingLogger, manualClock, testConfig } from './app.js';
import type { TestDatabase } from './database.js';

/**
 * Calbridge wired to an in-process Cal.com sandbox: the server's fetch
 * reaches only the sandbox, and the sandbox's webhook deliveries reach the
 * app listening on port 0 (our PUBLIC_URL is a name that resolves nowhere).
 */
export const PUBLIC_URL = 'http://calbridge.test';
export const REDIRECT_URI = `${PUBLIC_URL}/v1/oauth/calcom/callback`;

interface CalbridgeInstance {
  app: Express;
  ctx: AppContext;
  db: Db;
  logLines: string[];
  /** Every response body this instance sent through `call`, to check none holds a token. */
  close(): Promise<void>;
}

export interface CalcomHarness {
  sandbox: Sandbox;
  config: Config;
  clock: ReturnType<typeof manualClock>;
  /** Our own origin as Cal.com sees it is rewritten to this listening instance. */
  listening: { url: string; server: Server };
  instances: CalbridgeInstance[];
  /** Only requests to the sandbox pass; anything else fails like a network error. */
  fetch: typeof fetch;
  /**
   * Test hook on our server's requests to Cal.com: return a Response to answer in the sandbox's
   * place (e.g. a list page that misses an entry), or undefined to let the request through.
   */
  intercept: ((method: string, url: URL) => Response | Promise<Response> | undefined) | undefined;
  addInstance(): CalbridgeInstance;
  close(): Promise<void>;
}

export async function startCalcomHarness(database: TestDatabase, env: Record<string, string> = {}): Promise<CalcomHarness> {
  let appOrigin = '';
  const sandbox = await startSandbox({
    port: 0,
    oauthRedirectUris: [REDIRECT_URI],
    webhookRetryDelayMs: 10,
    // Deliveries to our public URL go to the instance listening on port 0.
    fetch: (input, init) => globalThis.fetch(String(input).replace(PUBLIC_URL, appOrigin), init),
  });
  const config = testConfig({
    DATABASE_URL: database.ownerUrl,
    PUBLIC_URL,
    CALCOM_API_URL: sandbox.apiUrl,
    CALCOM_APP_URL: sandbox.appUrl,
    CALCOM_OAUTH_CLIENT_ID: SANDBOX_OAUTH_CLIENT_ID,
    CALCOM_OAUTH_CLIENT_SECRET: SANDBOX_OAUTH_CLIENT_SECRET,
    CALCOM_PLATFORM_CLIENT_ID: SANDBOX_PLATFORM_CLIENT_ID,
    CALCOM_PLATFORM_CLIENT_SECRET: SANDBOX_PLATFORM_CLIENT_SECRET,
    ...env,
  });
  // The sandbox runs on the real clock; ours starts there and tests move it forward.
  const clock = manualClock(new Date());
  const hooks: Pick<CalcomHarness, 'intercept'> = { intercept: undefined };
  const sandboxFetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(sandbox.url)) throw new Error(`network disabled in tests: ${url}`);
    const answer = hooks.intercept?.(init?.method ?? 'GET', new URL(url));
    if (answer) return answer;
    return globalThis.fetch(input, init);
  };
  const instances: CalbridgeInstance[] = [];

  function addInstance(): CalbridgeInstance {
    const { logger, lines } = capturingLogger();
    const db = createDb({ connectionString: database.ownerUrl, max: 10 });
    const ctx = createContext({ config, db, fetch: sandboxFetch, clock, logger });
    const app = createApp(ctx);
    const instance = { app, ctx, db, logLines: lines, close: () => db.close() };
    instances.push(instance);
    return instance;
  }

  const first = addInstance();
  const server = createServer(first.app);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  appOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    sandbox,
    config,
    clock,
    listening: { url: appOrigin, server },
    instances,
    fetch: sandboxFetch,
    get intercept() {
      return hooks.intercept;
    },
    set intercept(fn) {
      hooks.intercept = fn;
    },
    addInstance,
    async close() {
      await sandbox.close();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      for (const i of instances) await i.close().catch(() => undefined);
    },
  };
}

/**
 * A Cal.com user of the sandbox for one tenant, with the demo user's event type (`intro-call`, weekdays
 * 9–17 London) and the API key `cal_test_<username>`. One Cal.com account is connected to one tenant
 * at a time (decision 0034), so tests that connect several tenants give each its own.
 */
export function seedCalcomUser(h: CalcomHarness, username: string): { id: number; username: string; apiKey: string } {
  const apiKey = `cal_test_${username.replace(/[^a-z0-9]/gi, '_')}`;
  const user = h.sandbox.control.seedUser({ username, apiKey });
  h.sandbox.control.seedEventType({ username, slug: SANDBOX_DEMO_EVENT_SLUG });
  return { id: user.id, username, apiKey };
}

/** Per sandbox, the consent given last: the approving user is one setting, so consents take turns. */
const consents = new WeakMap<CalcomHarness, Promise<unknown>>();

/** Runs `give` (Cal.com's consent page) with `username` as the sandbox's approving user, one at a time per sandbox. */
function asApprover<T>(h: CalcomHarness, username: string | undefined, give: () => Promise<T>): Promise<T> {
  if (!username) return give();
  const turn = (consents.get(h) ?? Promise.resolve())
    .catch(() => undefined)
    .then(async () => {
      h.sandbox.control.setOAuthBehaviour({ username });
      try {
        return await give();
      } finally {
        h.sandbox.control.setOAuthBehaviour({ username: SANDBOX_DEMO_USERNAME });
      }
    });
  consents.set(h, turn);
  return turn;
}

/**
 * Runs the whole OAuth dance: start (admin) → Cal.com's consent page → our callback. Returns the callback response.
 * Cal.com's consent is given as `as` (a sandbox username; the sandbox's approving user, `demo` unless set).
 */
export async function connectWithOAuth(
  h: CalcomHarness,
  app: Express,
  slug: string,
  opts: { as?: string } = {},
): Promise<{ start: request.Response; callbackUrl: string; callback: request.Response }> {
  const start = await request(app).get(`/v1/oauth/calcom/${slug}/start`).set(asAdmin).redirects(0);
  if (start.status !== 302) throw new Error(`start answered ${start.status}: ${start.text}`);
  const consent = await asApprover(h, opts.as, () => fetch(start.headers.location!, { redirect: 'manual' }));
  const back = consent.headers.get('location');
  if (!back?.startsWith(REDIRECT_URI)) throw new Error(`Cal.com did not redirect back: ${consent.status}`);
  const callbackUrl = back.slice(PUBLIC_URL.length);
  // The browser that started the flow sends back the cookie the start answer set.
  const callback = await request(app).get(callbackUrl).set('Cookie', bindingCookieOf(start));
  return { start, callbackUrl, callback };
}

/** `name=value` of the OAuth browser-binding cookie a start answer set, ready for a Cookie header. */
export function bindingCookieOf(start: request.Response): string {
  const raw = ([] as string[]).concat(start.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-calbridge_oauth='));
  if (!raw) throw new Error('the start answer set no browser-binding cookie');
  return raw.split(';')[0]!;
}
