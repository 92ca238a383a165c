import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The only module that reads `process.env`. Everything is parsed once at start;
 * a missing or malformed value stops start-up with one line naming the variable.
 * No secret has a default: in embedded mode main.ts generates them once and keeps
 * them in the data directory (see embedded/secrets.ts).
 */

const defaultWidgetDir = fileURLToPath(new URL('../../widget/dist', import.meta.url));
const defaultAdminDir = fileURLToPath(new URL('../../admin/dist', import.meta.url));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = z.string().url();

/** `id:base64key,id:base64key` — the first key encrypts, every key decrypts. */
const keyRing = z
  .string()
  .min(1)
  .transform((value, ctx) => {
    const keys: { id: string; key: Buffer }[] = [];
    for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=_-]+)$/.exec(part);
      const key = m ? Buffer.from(m[2]!, 'base64') : undefined;
      if (!m || !key || key.length !== 32) {
        ctx.addIssue({ code: 'custom', message: 'each entry must be id:base64 of 32 random bytes (e.g. k1:$(openssl rand -base64 32))' });
        return z.NEVER;
      }
      if (keys.some((k) => k.id === m[1])) {
        ctx.addIssue({ code: 'custom', message: `key id "${m[1]}" appears twice` });
        return z.NEVER;
      }
      keys.push({ id: m[1]!, key });
    }
    if (keys.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'at least one key is required' });
      return z.NEVER;
    }
    return keys;
  });

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: url.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: url.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  // Behind PgBouncer in transaction mode (README "Deploy"): a direct (or session-mode) URL for what
  // needs a session — migrations' advisory lock, the job worker's and the change listener's LISTEN —
  // and hot statements sent unnamed where the pooler cannot keep named ones.
  DATABASE_SESSION_URL: url.optional(),
  DATABASE_NAMED_STATEMENTS: bool.default(true),
  // Deadlines on every database wait (server/src/db/db.ts): nothing waits forever.
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(3_000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  DATABASE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(3_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(15_000),
  CALBRIDGE_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  CALBRIDGE_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
  CALBRIDGE_DATA_DIR: z.string().min(1).default('.calbridge'),
  CALBRIDGE_ENCRYPTION_KEYS: keyRing,
  CALBRIDGE_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  CALBRIDGE_WEBHOOK_SECRET_GRACE_SECONDS: z.coerce.number().int().min(0).max(30 * 86400).default(86400),
  // Cal.com retries only on network errors (sendPayload.ts), from its task queue; 7 days leaves room for queues backed up on its side.
  CALBRIDGE_WEBHOOK_REPLAY_WINDOW_SECONDS: z.coerce.number().int().min(3600).max(90 * 86400).default(7 * 86400),
  // A delivery dated further ahead of our clock than this is refused (future_delivery): it could pin a booking's state.
  CALBRIDGE_WEBHOOK_FUTURE_SKEW_SECONDS: z.coerce.number().int().min(0).max(86400).default(300),
  // Verified deliveries that cannot reach PostgreSQL (server/src/webhooks/webhooks.spool.ts).
  CALBRIDGE_WEBHOOK_SPOOL_DIR: z.string().min(1).optional(),
  CALBRIDGE_WEBHOOK_SPOOL_MAX_MB: z.coerce.number().int().min(1).max(100_000).default(256),
  // Refused deliveries are all counted in metrics; at most this many per tenant and minute are written to the delivery log.
  CALBRIDGE_WEBHOOK_REFUSAL_LOG_PER_MINUTE: z.coerce.number().int().min(0).max(100_000).default(20),
  // `true` is one reverse proxy; a number is that many. Never "trust every hop": the left-most
  // X-Forwarded-For entry is whatever the client wrote, and rate limits count by address (issue 13).
  CALBRIDGE_TRUST_PROXY: z
    .union([bool, z.coerce.number().int().min(0).max(10)])
    .transform((v) => (v === true ? 1 : v === false ? 0 : v))
    .default(0),
  CALBRIDGE_WIDGET_DIR: z.string().min(1).default(defaultWidgetDir),
  CALBRIDGE_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(600),
  CALBRIDGE_SESSION_SLOTS_DEADLINE_MS: z.coerce.number().int().min(0).max(5_000).default(150),
  CALCOM_API_URL: url.default('https://api.cal.com/v2'),
  CALCOM_APP_URL: url.default('https://app.cal.com'),
  CALCOM_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  CALCOM_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  CALCOM_PLATFORM_CLIENT_ID: z.string().min(1).optional(),
  CALCOM_PLATFORM_CLIENT_SECRET: z.string().min(1).optional(),
  // CRM hand-off (server/src/crm). Plain-http destinations on loopback only, for local receivers in tests and development.
  CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS: bool.default(false),
  // Reconciliation (server/src/calcom/reconciliation.service.ts): how often every tenant is read back
  // from Cal.com (a divisor of 60 so the crontab fires evenly), and the share of Cal.com's per-token
  // rate limit it leaves unused for visitors' booking calls on the same token.
  CALBRIDGE_RECONCILE_INTERVAL_MINUTES: z.coerce
    .number()
    .int()
    .refine((m) => [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].includes(m), 'must divide 60: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60')
    .default(15),
  CALBRIDGE_RECONCILE_RESERVE_PERCENT: z.coerce.number().int().min(0).max(90).default(20),
  // Cal.com's trackers shared across tenants (server/src/calcom/shared-budget.service.ts, decision 0030):
  // token refreshes carry no bearer token, so Cal.com counts OAuth refreshes by our address and
  // managed-user refreshes by the platform client (apps/api/v2/src/lib/throttler-guard.ts; its
  // RATE_LIMIT_DEFAULT_LIMIT 120, RATE_LIMIT_DEFAULT_LIMIT_OAUTH_CLIENT 500, RATE_LIMIT_DEFAULT_TTL_MS 60 s).
  CALBRIDGE_CALCOM_TOKEN_ENDPOINT_LIMIT: z.coerce.number().int().min(1).max(100_000).default(120),
  CALBRIDGE_CALCOM_PLATFORM_CLIENT_LIMIT: z.coerce.number().int().min(1).max(100_000).default(500),
  CALBRIDGE_CALCOM_RATE_WINDOW_SECONDS: z.coerce.number().int().min(6).max(3600).default(60),
  CALBRIDGE_CALCOM_REFRESH_RESERVE_PERCENT: z.coerce.number().int().min(0).max(90).default(20),
  CALBRIDGE_CRM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  CALBRIDGE_CRM_SECRET_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(30 * 86400).default(86400),
  CALBRIDGE_HUBSPOT_API_URL: url.default('https://api.hubapi.com'),
  // The admin console (server/src/console): OpenID Connect sign-in and server-side sessions.
  CALBRIDGE_OIDC_ISSUER: url.optional(),
  CALBRIDGE_OIDC_CLIENT_ID: z.string().min(1).max(255).optional(),
  CALBRIDGE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  CALBRIDGE_OIDC_ROLES_CLAIM: z.string().min(1).max(200).default('groups'),
  CALBRIDGE_CONSOLE_IDLE_SECONDS: z.coerce.number().int().min(60).max(86400).default(1800),
  CALBRIDGE_CONSOLE_MAX_SECONDS: z.coerce.number().int().min(300).max(7 * 86400).default(12 * 3600),
  CALBRIDGE_ADMIN_DIR: z.string().min(1).default(defaultAdminDir),
  // Exposure (issue 13, finding 9): /metrics only with this bearer token; source maps only when asked for.
  CALBRIDGE_METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  CALBRIDGE_SERVE_SOURCE_MAPS: bool.default(false),
});

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  logLevel: string;
  /** Absent: run on the embedded PostgreSQL under `dataDir` (embedded/postgres.ts). */
  databaseUrl: string | undefined;
  databasePoolMax: number;
  /** For connections that need a session (migrations, job worker, change listener); the pool's URL when unset. */
  databaseSessionUrl: string | undefined;
  /** Prepare hot statements by name per connection (server/src/db/db.ts); off behind a pooler that cannot keep them. */
  databaseNamedStatements: boolean;
  /** Deadlines on every database wait. */
  databaseTimeouts: { acquireMs: number; statementMs: number; lockMs: number; idleInTransactionMs: number };
  /** Jobs one instance's worker runs at once. */
  jobConcurrency: number;
  /** How long SIGTERM waits for requests and jobs in flight before the process ends anyway. */
  shutdownTimeoutMs: number;
  dataDir: string;
  encryptionKeys: { id: string; key: Buffer }[];
  adminToken: string | undefined;
  webhookSecretGraceSeconds: number;
  /** Deliveries whose createdAt is older than this are refused (`stale_delivery`); identities are kept at least this long. */
  webhookReplayWindowSeconds: number;
  /** Deliveries whose createdAt is further ahead of our clock than this are refused (`future_delivery`). */
  webhookFutureSkewSeconds: number;
  /** Refused deliveries written to the delivery log per tenant per minute (the rest are only counted). */
  webhookRefusalLogPerMinute: number;
  /** Where verified deliveries wait while PostgreSQL is unreachable, and how much it may hold. */
  webhookSpool: { dir: string; maxBytes: number };
  /** Reverse proxies in front of us whose X-Forwarded-For entry is believed (0: none, the socket address counts). */
  trustProxy: number;
  widgetDir: string;
  sessionTtlSeconds: number;
  /** How long a native session's answer may wait for its first page of free times (decision 0027). */
  sessionSlotsDeadlineMs: number;
  /** Bearer token `/metrics` requires; unset: `/metrics` is not served (404). */
  metricsToken: string | undefined;
  /** Serve `*.map` next to widget.js (off by default: they reveal the source). */
  serveSourceMaps: boolean;
  calcom: {
    apiUrl: string;
    appUrl: string;
    oauthClientId: string | undefined;
    oauthClientSecret: string | undefined;
    platformClientId: string | undefined;
    platformClientSecret: string | undefined;
  };
  reconcile: {
    intervalMinutes: number;
    /** Per cent of Cal.com's per-token limit reconciliation never spends (left for visitors). */
    reservePercent: number;
  };
  /** Budgets of Cal.com's trackers shared across tenants (token refreshes), per window. */
  sharedLimits: {
    tokenEndpointPerWindow: number;
    platformClientPerWindow: number;
    windowSeconds: number;
    /** Per cent of each shared limit background refreshes (reconciliation) never spend: left for visitors. */
    reservePercent: number;
  };
  crm: {
    /** DANGEROUS outside tests: lets destinations be http://127.0.0.1 / [::1] / localhost. */
    allowInsecureLoopbackDestinations: boolean;
    /** One outbound request's time limit. */
    timeoutMs: number;
    /** How long a rotated-out destination secret still signs (both signatures are sent). */
    secretOverlapSeconds: number;
    /** HubSpot API base for destinations that name none. */
    hubspotApiUrl: string;
  };
  /** The admin console's sign-in; `issuer` undefined: no console sign-in (bearer tokens only). */
  oidc: {
    issuer: string | undefined;
    clientId: string | undefined;
    clientSecret: string | undefined;
    /** The ID token / userinfo claim holding role names (a dotted path reaches nested claims). */
    rolesClaim: string;
    idleSeconds: number;
    maxSeconds: number;
  };
  /** Where the built console (`admin/dist`) is served from at /admin. */
  adminDir: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A copy of the process environment: the one place it is read. */
export function readEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}

/** Parses an environment into a Config, or throws a ConfigError with one readable line. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset", as they do in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const problem = issue.code === 'invalid_type' && cleaned[name] === undefined ? 'is required' : issue.message;
    throw new ConfigError(`${name} ${problem}`);
  }
  const e = result.data;
  if (e.DATABASE_URL && !e.CALBRIDGE_ADMIN_TOKEN) {
    throw new ConfigError('CALBRIDGE_ADMIN_TOKEN is required when DATABASE_URL is set');
  }
  if (Boolean(e.CALCOM_OAUTH_CLIENT_ID) !== Boolean(e.CALCOM_OAUTH_CLIENT_SECRET)) {
    throw new ConfigError('CALCOM_OAUTH_CLIENT_ID and CALCOM_OAUTH_CLIENT_SECRET go together');
  }
  if (Boolean(e.CALCOM_PLATFORM_CLIENT_ID) !== Boolean(e.CALCOM_PLATFORM_CLIENT_SECRET)) {
    throw new ConfigError('CALCOM_PLATFORM_CLIENT_ID and CALCOM_PLATFORM_CLIENT_SECRET go together');
  }
  if (e.CALBRIDGE_OIDC_ISSUER && !e.CALBRIDGE_OIDC_CLIENT_ID) {
    throw new ConfigError('CALBRIDGE_OIDC_CLIENT_ID is required when CALBRIDGE_OIDC_ISSUER is set');
  }
  if (e.CALBRIDGE_CONSOLE_IDLE_SECONDS > e.CALBRIDGE_CONSOLE_MAX_SECONDS) {
    throw new ConfigError('CALBRIDGE_CONSOLE_IDLE_SECONDS must not exceed CALBRIDGE_CONSOLE_MAX_SECONDS');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseSessionUrl: e.DATABASE_SESSION_URL,
    databaseNamedStatements: e.DATABASE_NAMED_STATEMENTS,
    databaseTimeouts: {
      acquireMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
      statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      lockMs: e.DATABASE_LOCK_TIMEOUT_MS,
      idleInTransactionMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    jobConcurrency: e.CALBRIDGE_JOB_CONCURRENCY,
    shutdownTimeoutMs: e.CALBRIDGE_SHUTDOWN_TIMEOUT_MS,
    dataDir: e.CALBRIDGE_DATA_DIR,
    encryptionKeys: e.CALBRIDGE_ENCRYPTION_KEYS,
    adminToken: e.CALBRIDGE_ADMIN_TOKEN,
    webhookSecretGraceSeconds: e.CALBRIDGE_WEBHOOK_SECRET_GRACE_SECONDS,
    webhookReplayWindowSeconds: e.CALBRIDGE_WEBHOOK_REPLAY_WINDOW_SECONDS,
    webhookFutureSkewSeconds: e.CALBRIDGE_WEBHOOK_FUTURE_SKEW_SECONDS,
    webhookRefusalLogPerMinute: e.CALBRIDGE_WEBHOOK_REFUSAL_LOG_PER_MINUTE,
    webhookSpool: { dir: e.CALBRIDGE_WEBHOOK_SPOOL_DIR ?? join(e.CALBRIDGE_DATA_DIR, 'webhook-spool'), maxBytes: e.CALBRIDGE_WEBHOOK_SPOOL_MAX_MB * 1024 * 1024 },
    trustProxy: e.CALBRIDGE_TRUST_PROXY,
    widgetDir: e.CALBRIDGE_WIDGET_DIR,
    sessionTtlSeconds: e.CALBRIDGE_SESSION_TTL_SECONDS,
    sessionSlotsDeadlineMs: e.CALBRIDGE_SESSION_SLOTS_DEADLINE_MS,
    metricsToken: e.CALBRIDGE_METRICS_TOKEN,
    serveSourceMaps: e.CALBRIDGE_SERVE_SOURCE_MAPS,
    calcom: {
      apiUrl: e.CALCOM_API_URL.replace(/\/$/, ''),
      appUrl: e.CALCOM_APP_URL.replace(/\/$/, ''),
      oauthClientId: e.CALCOM_OAUTH_CLIENT_ID,
      oauthClientSecret: e.CALCOM_OAUTH_CLIENT_SECRET,
      platformClientId: e.CALCOM_PLATFORM_CLIENT_ID,
      platformClientSecret: e.CALCOM_PLATFORM_CLIENT_SECRET,
    },
    reconcile: { intervalMinutes: e.CALBRIDGE_RECONCILE_INTERVAL_MINUTES, reservePercent: e.CALBRIDGE_RECONCILE_RESERVE_PERCENT },
    sharedLimits: {
      tokenEndpointPerWindow: e.CALBRIDGE_CALCOM_TOKEN_ENDPOINT_LIMIT,
      platformClientPerWindow: e.CALBRIDGE_CALCOM_PLATFORM_CLIENT_LIMIT,
      windowSeconds: e.CALBRIDGE_CALCOM_RATE_WINDOW_SECONDS,
      reservePercent: e.CALBRIDGE_CALCOM_REFRESH_RESERVE_PERCENT,
    },
    crm: {
      allowInsecureLoopbackDestinations: e.CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS,
      timeoutMs: e.CALBRIDGE_CRM_TIMEOUT_MS,
      secretOverlapSeconds: e.CALBRIDGE_CRM_SECRET_OVERLAP_SECONDS,
      hubspotApiUrl: e.CALBRIDGE_HUBSPOT_API_URL.replace(/\/$/, ''),
    },
    oidc: {
      issuer: e.CALBRIDGE_OIDC_ISSUER,
      clientId: e.CALBRIDGE_OIDC_CLIENT_ID,
      clientSecret: e.CALBRIDGE_OIDC_CLIENT_SECRET,
      rolesClaim: e.CALBRIDGE_OIDC_ROLES_CLAIM,
      idleSeconds: e.CALBRIDGE_CONSOLE_IDLE_SECONDS,
      maxSeconds: e.CALBRIDGE_CONSOLE_MAX_SECONDS,
    },
    adminDir: e.CALBRIDGE_ADMIN_DIR,
  };
}
