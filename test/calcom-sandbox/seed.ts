/**
 * Well-known seed data. Everything here is a test fixture, never a real secret.
 */

/** Username of the seeded Cal.com user. `demo/intro-call` is a working Cal link. */
export const SANDBOX_DEMO_USERNAME = 'demo';
/** Email of the seeded user. */
export const SANDBOX_DEMO_EMAIL = 'demo@example.com';
/** API key of the seeded user, usable as `Authorization: Bearer …`. Cal.com test keys start with `cal_test_`. */
export const SANDBOX_DEMO_API_KEY = 'cal_test_sandbox_demo';
/** Slug of the seeded 30-minute event type. */
export const SANDBOX_DEMO_EVENT_SLUG = 'intro-call';
/** Time zone of the seeded user; slots are 09:00–17:00 on weekdays there. */
export const SANDBOX_DEMO_TIME_ZONE = 'Europe/London';

/** Seeded third-party OAuth client (authorize page + `/v2/auth/oauth2/token`). */
export const SANDBOX_OAUTH_CLIENT_ID = 'sandbox-oauth-client';
/** Secret of the seeded third-party OAuth client (it is a confidential client). */
export const SANDBOX_OAUTH_CLIENT_SECRET = 'sandbox-oauth-client-secret';
/**
 * Redirect URIs registered for the seeded OAuth client unless `startSandbox`
 * gets `oauthRedirectUris` (the CLI reads `CALCOM_SANDBOX_OAUTH_REDIRECT_URIS`).
 */
export const SANDBOX_OAUTH_DEFAULT_REDIRECT_URIS: readonly string[] = [
  'http://127.0.0.1:8787/oauth/calcom/callback',
  'http://localhost:8787/oauth/calcom/callback',
];

/** Seeded Platform OAuth client id (managed users, header `x-cal-secret-key`). */
export const SANDBOX_PLATFORM_CLIENT_ID = 'clsandboxplatform000000001';
/** Secret of the seeded Platform OAuth client. */
export const SANDBOX_PLATFORM_CLIENT_SECRET = 'sandbox-platform-secret';

/** Lifetimes Cal.com documents / uses (FACTS.md; OAuthService.mintTokens). */
export const LIFETIMES = {
  /** Managed user access token: 60 minutes. */
  managedAccessMs: 60 * 60 * 1000,
  /** Managed user refresh token: 1 year. */
  managedRefreshMs: 365 * 24 * 60 * 60 * 1000,
  /** Third-party OAuth access token: 1800 s in Cal.com's OAuthService. */
  oauthAccessSeconds: 1800,
  /** Third-party OAuth refresh token: 30 days in Cal.com's OAuthService. */
  oauthRefreshSeconds: 30 * 24 * 60 * 60,
  /** Authorization codes: short-lived; Cal.com's exact lifetime is not in the document. */
  authCodeMs: 10 * 60 * 1000,
} as const;
