import type { BookingService } from './booking-service.js';
import type { SandboxStore } from './store.js';
import type { WebhookDispatcher } from './webhooks.js';

/** Counters tests read through `control.stats()`. */
export interface SandboxStats {
  /** Every call of `POST /v2/auth/oauth2/token`, successful or not. */
  tokenRequests: number;
  /** Successful `authorization_code` grants. */
  codeExchanges: number;
  /** Successful `refresh_token` grants. */
  tokenRefreshes: number;
  /** Requests of the authorize page. */
  authorizeRequests: number;
  /** Successful `POST /v2/oauth/{clientId}/refresh` (managed users). */
  managedUserRefreshes: number;
}

export function emptyStats(): SandboxStats {
  return { tokenRequests: 0, codeExchanges: 0, tokenRefreshes: 0, authorizeRequests: 0, managedUserRefreshes: 0 };
}

/** How the authorize page answers. */
export interface OAuthBehaviour {
  /** Username the page acts as (the "logged-in" Cal.com user). Default `demo`. */
  username: string;
  /** Simulate the user pressing "Go back": redirect with `error=access_denied`. */
  deny: boolean;
  /**
   * `rotating` (default): a refresh deletes the client's previous refresh tokens for that user,
   * so a used one answers `invalid_grant` / `refresh_token_revoked`
   * (packages/features/oauth/services/OAuthService.ts refreshAccessToken,
   * OAuthRefreshTokenRepository.rotateTokenForUser). `stateless`: older Cal.com releases, whose
   * refresh tokens were plain 30-day JWTs that kept working after use.
   */
  refreshTokens: 'rotating' | 'stateless';
}

/**
 * Requests per window by tracker kind, as Cal.com's throttler picks them
 * (apps/api/v2/src/lib/throttler-guard.ts getDefaultLimit): a bearer token that is an API key
 * (`cal_…`), any other bearer token (OAuth or managed-user access token), the `x-cal-client-id`
 * of a platform call without a bearer token, else the caller's address.
 */
export interface RateLimits {
  apiKey: number;
  accessToken: number;
  oauthClient: number;
  other: number;
}

/** Cal.com's defaults (throttler-guard.ts RATE_LIMIT_DEFAULT_LIMIT_*): 120 per API key and address, 500 per token and OAuth client. */
export const CALCOM_RATE_LIMITS: RateLimits = { apiKey: 120, accessToken: 500, oauthClient: 500, other: 120 };

/**
 * API v2 rate limiting, off unless a test turns it on (`control.setRateLimit`). Cal.com's
 * throttler (apps/api/v2/src/lib/throttler-guard.ts, storage @nest-lab/throttler-storage-redis)
 * counts per tracker in fixed windows of 60 s from the first hit; the hit past the limit blocks the
 * tracker for 60 s (blockDuration) from then, whatever the window. Answers, a 429 included, carry
 * `X-RateLimit-Limit-Default`, `X-RateLimit-Remaining-Default` (0 while blocked) and
 * `X-RateLimit-Reset-Default` (seconds, rounded up: to the block's end while blocked, else the
 * window's); no `Retry-After`.
 */
export interface RateLimitState {
  /** Requests per window by tracker kind; null = no limit (the sandbox default). */
  limits: RateLimits | null;
  windowMs: number;
  blockMs: number;
  windows: Map<string, { count: number; resetAt: number; blockedUntil: number }>;
}

/** Everything a route handler needs. */
export interface SandboxContext {
  store: SandboxStore;
  bookings: BookingService;
  webhooks: WebhookDispatcher;
  clock: () => Date;
  /** Public origin of the sandbox (API and web app share it). */
  appUrl: () => string;
  stats: SandboxStats;
  oauth: OAuthBehaviour;
  rateLimit: RateLimitState;
}
