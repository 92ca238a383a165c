import {
  SANDBOX_DEMO_API_KEY,
  SANDBOX_DEMO_EMAIL,
  SANDBOX_DEMO_EVENT_SLUG,
  SANDBOX_DEMO_TIME_ZONE,
  SANDBOX_DEMO_USERNAME,
  SANDBOX_OAUTH_CLIENT_ID,
  SANDBOX_OAUTH_CLIENT_SECRET,
  SANDBOX_PLATFORM_CLIENT_ID,
  SANDBOX_PLATFORM_CLIENT_SECRET,
} from './seed.js';
import type {
  SandboxBooking,
  SandboxEventType,
  SandboxOAuthClient,
  SandboxPlatformClient,
  SandboxUser,
  SandboxWebhook,
} from './types.js';

/** A token the sandbox issued, with what it grants. */
export interface IssuedToken {
  userId: number;
  clientId: string;
  expiresAt: number;
}

/** A refresh token of the third-party OAuth endpoint: a JWT carrying a `secret` (OAuthService.mintTokens). */
export interface IssuedRefreshToken extends IssuedToken {
  secret: string;
}

export interface ScheduledTrigger {
  id: string;
  webhookId: string;
  bookingUid: string;
  subscriberUrl: string;
  triggerEvent: 'MEETING_STARTED' | 'MEETING_ENDED';
  /** Epoch ms: the booking's start (MEETING_STARTED) or end (MEETING_ENDED). */
  startAfter: number;
  /** Exact body, frozen when scheduled: `JSON.stringify({ triggerEvent, ...booking })`. */
  payload: string;
}

export interface AuthorizationCode {
  clientId: string;
  userId: number;
  redirectUri: string;
  /** Null when the client sent no challenge (allowed for confidential clients). */
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | null;
  expiresAt: number;
}

export interface UserSeed {
  username: string;
  email?: string;
  name?: string;
  timeZone?: string;
  /** API key to register for the user (`cal_test_…`/`cal_live_…`). */
  apiKey?: string;
}

export interface EventTypeSeed {
  /** Owner, by username. */
  username: string;
  slug: string;
  title?: string;
  description?: string;
  lengthInMinutes?: number;
  slotIntervalMinutes?: number | null;
  minimumBookingNoticeMinutes?: number;
  requiresConfirmation?: boolean;
  /** Price in minor units; > 0 means bookings wait for payment. */
  price?: number;
  hidden?: boolean;
  /** 0 = Sunday … 6 = Saturday. Default Monday–Friday. */
  days?: number[];
  /** `HH:MM`, default `09:00`. */
  startTime?: string;
  /** `HH:MM`, default `17:00`. */
  endTime?: string;
}

/**
 * All sandbox state, in memory. One instance per sandbox; `reset()` restores
 * the seed without replacing the object (handlers keep their reference).
 */
export class SandboxStore {
  users = new Map<number, SandboxUser>();
  eventTypes = new Map<number, SandboxEventType>();
  bookings = new Map<string, SandboxBooking>();
  webhooks = new Map<string, SandboxWebhook>();
  /**
   * Cal.com's `WebhookScheduledTriggers` rows (scheduleTrigger.ts): MEETING_STARTED / MEETING_ENDED
   * payload strings, sent once their `startAfter` has passed.
   */
  scheduledTriggers = new Map<string, ScheduledTrigger>();
  apiKeys = new Map<string, number>();
  oauthClients = new Map<string, SandboxOAuthClient>();
  platformClients = new Map<string, SandboxPlatformClient>();
  authCodes = new Map<string, AuthorizationCode>();
  oauthAccessTokens = new Map<string, IssuedToken>();
  oauthRefreshTokens = new Map<string, IssuedRefreshToken>();
  /** Cal.com's `OAuthRefreshToken` table: the secrets of refresh tokens still valid. */
  oauthRefreshSecrets = new Map<string, { clientId: string; userId: number; expiresAt: number }>();
  managedAccessTokens = new Map<string, IssuedToken>();
  managedRefreshTokens = new Map<string, IssuedToken>();

  private counters = { user: 0, eventType: 0, booking: 0, webhook: 0, schedule: 0 };

  constructor(
    private readonly now: () => Date,
    private readonly seedOAuthRedirectUris: readonly string[],
  ) {
    this.reset();
  }

  nextId(kind: keyof SandboxStore['counters']): number {
    this.counters[kind] += 1;
    return this.counters[kind];
  }

  /** Drops all state and re-creates the seed. */
  reset(): void {
    for (const value of Object.values(this)) {
      if (value instanceof Map || value instanceof Set) value.clear();
    }
    this.counters = { user: 0, eventType: 0, booking: 0, webhook: 0, schedule: 0 };
    this.addUser({
      username: SANDBOX_DEMO_USERNAME,
      email: SANDBOX_DEMO_EMAIL,
      name: 'Demo User',
      timeZone: SANDBOX_DEMO_TIME_ZONE,
      apiKey: SANDBOX_DEMO_API_KEY,
    });
    this.addEventType({
      username: SANDBOX_DEMO_USERNAME,
      slug: SANDBOX_DEMO_EVENT_SLUG,
      title: 'Intro call',
      description: 'A 30 minute introduction.',
      lengthInMinutes: 30,
    });
    this.oauthClients.set(SANDBOX_OAUTH_CLIENT_ID, {
      clientId: SANDBOX_OAUTH_CLIENT_ID,
      clientSecret: SANDBOX_OAUTH_CLIENT_SECRET,
      redirectUris: [...this.seedOAuthRedirectUris],
      name: 'Calbridge (sandbox)',
      clientType: 'CONFIDENTIAL',
      status: 'APPROVED',
      ownerUserId: null,
    });
    this.platformClients.set(SANDBOX_PLATFORM_CLIENT_ID, {
      clientId: SANDBOX_PLATFORM_CLIENT_ID,
      secret: SANDBOX_PLATFORM_CLIENT_SECRET,
      name: 'Calbridge platform (sandbox)',
    });
  }

  addUser(seed: UserSeed, extra: Partial<SandboxUser> = {}): SandboxUser {
    if (this.userByUsername(seed.username)) throw new Error(`username ${seed.username} is taken`);
    const id = this.nextId('user');
    const user: SandboxUser = {
      id,
      username: seed.username,
      email: seed.email ?? `${seed.username}@example.com`,
      name: seed.name ?? seed.username,
      timeZone: seed.timeZone ?? 'Europe/London',
      weekStart: 'Monday',
      timeFormat: 24,
      locale: 'en',
      bio: null,
      avatarUrl: null,
      defaultScheduleId: this.nextId('schedule'),
      createdDate: this.now().toISOString(),
      metadata: {},
      ...extra,
    };
    this.users.set(id, user);
    if (seed.apiKey) this.apiKeys.set(seed.apiKey, id);
    return user;
  }

  addEventType(seed: EventTypeSeed): SandboxEventType {
    const owner = this.userByUsername(seed.username);
    if (!owner) throw new Error(`unknown user ${seed.username}`);
    if (this.eventTypeBySlug(owner.id, seed.slug)) throw new Error(`event type ${seed.slug} exists`);
    const eventType: SandboxEventType = {
      id: this.nextId('eventType'),
      ownerId: owner.id,
      slug: seed.slug,
      title: seed.title ?? seed.slug,
      description: seed.description ?? '',
      lengthInMinutes: seed.lengthInMinutes ?? 30,
      slotIntervalMinutes: seed.slotIntervalMinutes ?? null,
      // Cal.com's default minimum booking notice is 120 minutes.
      minimumBookingNoticeMinutes: seed.minimumBookingNoticeMinutes ?? 120,
      requiresConfirmation: seed.requiresConfirmation ?? false,
      price: seed.price ?? 0,
      hidden: seed.hidden ?? false,
      availability: {
        days: seed.days ?? [1, 2, 3, 4, 5],
        startTime: seed.startTime ?? '09:00',
        endTime: seed.endTime ?? '17:00',
      },
    };
    this.eventTypes.set(eventType.id, eventType);
    return eventType;
  }

  userByUsername(username: string): SandboxUser | undefined {
    for (const u of this.users.values()) if (u.username === username) return u;
    return undefined;
  }

  eventTypeBySlug(ownerId: number, slug: string): SandboxEventType | undefined {
    for (const e of this.eventTypes.values()) if (e.ownerId === ownerId && e.slug === slug) return e;
    return undefined;
  }

  eventTypesOf(ownerId: number): SandboxEventType[] {
    return [...this.eventTypes.values()].filter((e) => e.ownerId === ownerId);
  }

  bookingsOf(userId: number): SandboxBooking[] {
    return [...this.bookings.values()].filter((b) => b.userId === userId);
  }

  /** Removes a user and everything that belongs to it (managed user deletion). */
  deleteUser(userId: number): void {
    this.users.delete(userId);
    for (const [k, v] of this.apiKeys) if (v === userId) this.apiKeys.delete(k);
    for (const e of this.eventTypesOf(userId)) this.eventTypes.delete(e.id);
    for (const [k, w] of this.webhooks) if (w.userId === userId) this.webhooks.delete(k);
    for (const map of [this.managedAccessTokens, this.managedRefreshTokens, this.oauthAccessTokens, this.oauthRefreshTokens]) {
      for (const [k, t] of map) if (t.userId === userId) map.delete(k);
    }
  }
}
