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
 * API v2 rate limiting, off unless a test turns it on (`control.setRateLimit`). Cal.com's
 * throttler (apps/api/v2/src/lib/throttler-guard.ts) counts per token in 60 s windows and puts
 * `X-RateLimit-Limit-Default`, `X-RateLimit-Remaining-Default` and `X-RateLimit-Reset-Default`
 * (seconds) on answers, a 429 included; it sends no `Retry-After`.
 */
export interface RateLimitState {
  /** Requests per window and tracker; null = no limit (the sandbox default). */
  limit: number | null;
  windowMs: number;
  windows: Map<string, { count: number; resetAt: number }>;
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
