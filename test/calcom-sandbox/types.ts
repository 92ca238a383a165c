/**
 * The sandbox's in-memory model. Names follow Cal.com's own (Prisma schema and
 * API v2 DTOs) so that mapping to the API shapes stays mechanical.
 */

/** A Cal.com user: the seeded `demo`, a user added by tests, or a platform managed user. */
export interface SandboxUser {
  id: number;
  username: string;
  email: string;
  name: string;
  timeZone: string;
  weekStart: string;
  timeFormat: 12 | 24;
  locale: string;
  bio: string | null;
  avatarUrl: string | null;
  defaultScheduleId: number | null;
  createdDate: string;
  metadata: Record<string, unknown>;
  /** Platform OAuth client that owns this managed user, if any. */
  platformOAuthClientId?: string;
}

/** Weekly working hours of an event type, in its owner's time zone. */
interface WeeklyAvailability {
  /** 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** `HH:MM` */
  startTime: string;
  /** `HH:MM` */
  endTime: string;
}

export interface SandboxEventType {
  id: number;
  ownerId: number;
  slug: string;
  title: string;
  description: string;
  lengthInMinutes: number;
  /** Minutes between slot starts; Cal.com defaults it to the length. */
  slotIntervalMinutes: number | null;
  minimumBookingNoticeMinutes: number;
  requiresConfirmation: boolean;
  /** Price in the currency's minor unit; > 0 makes bookings wait for payment (sandbox: paid through `control.payBooking`). */
  price: number;
  hidden: boolean;
  availability: WeeklyAvailability;
}

/** Cal.com's `BookingStatus` enum, lower-cased as API v2 outputs it (output.service.ts). */
type BookingStatus = 'accepted' | 'pending' | 'cancelled' | 'rejected' | 'awaiting_host';

export interface SandboxAttendee {
  name: string;
  email: string;
  timeZone: string;
  language: string;
  phoneNumber?: string;
  absent: boolean;
}

export interface SandboxBooking {
  id: number;
  uid: string;
  eventTypeId: number;
  userId: number;
  title: string;
  description: string;
  status: BookingStatus;
  start: string;
  end: string;
  attendees: SandboxAttendee[];
  guests: string[];
  metadata: Record<string, string | number | boolean | null>;
  bookingFieldsResponses: Record<string, unknown>;
  location: string;
  cancellationReason?: string;
  /** confirm.handler.ts stores a host's rejection reason in `rejectionReason`, not `cancellationReason`. */
  rejectionReason?: string;
  /** Paid event types: Cal.com creates the booking unpaid and sends BOOKING_PAYMENT_INITIATED; BOOKING_PAID follows payment. */
  paid?: boolean;
  /**
   * Loose cases of real API v2 booking outputs (apps/api/v2/.../2024-08-13/services/output.service.ts),
   * set through `control.loosenBooking`: the event type was deleted (eventTypeId/eventType null), the host
   * has no name, the booking has no user (host id "unknown"), updatedAt never set, cancellationReason "".
   */
  loose?: { eventTypeDeleted?: boolean; hostNameNull?: boolean; noUser?: boolean; updatedAtNull?: boolean; cancellationReasonEmpty?: boolean };
  cancelledByEmail?: string;
  reschedulingReason?: string;
  rescheduledByEmail?: string;
  rescheduledFromUid?: string;
  rescheduledToUid?: string;
  /** Cal.com marks the old booking of a reschedule with `rescheduled: true`. */
  rescheduled?: boolean;
  absentHost: boolean;
  createdAt: string;
  updatedAt: string;
  icsUid: string;
  /**
   * UTM parameters from the booking page. Cal.com keeps these in a separate
   * tracking record that API v2's booking output does not expose; so do we.
   */
  tracking?: Record<string, string>;
}

/** Subscriber registered through `/v2/webhooks` (owned by a user). */
export interface SandboxWebhook {
  /** A UUID string: `model Webhook { id String @id @unique }` (packages/prisma/schema.prisma), created with uuidv4(). */
  id: string;
  userId: number;
  subscriberUrl: string;
  triggers: string[];
  active: boolean;
  secret: string | null;
  payloadTemplate: string | null;
  version: string;
}

/** Third-party OAuth client (Cal.com's "OAuth clients" reviewed by Cal.com). */
export interface SandboxOAuthClient {
  clientId: string;
  clientSecret: string | null;
  redirectUris: string[];
  name: string;
  /** `PUBLIC` when registered without a secret. */
  clientType: 'CONFIDENTIAL' | 'PUBLIC';
  /**
   * Cal.com reviews every OAuth client: until it is APPROVED only its owner's account may use it
   * (OAuthService.ensureClientAccessAllowed); REJECTED clients work for nobody.
   */
  status: 'APPROVED' | 'PENDING' | 'REJECTED';
  /** The Cal.com user who registered the client. */
  ownerUserId: number | null;
}

/** Platform OAuth client, the owner of managed users. */
export interface SandboxPlatformClient {
  clientId: string;
  secret: string;
  name: string;
}
