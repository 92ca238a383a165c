import type { SandboxBooking, SandboxEventType, SandboxUser, SandboxWebhook } from './types.js';

/**
 * `BookingOutput_2024_08_13` as apps/api/v2/src/ee/bookings/2024-08-13/services/output.service.ts
 * builds it, including the loose cases the OpenAPI document does not admit (`booking.loose`):
 * null eventTypeId/eventType once the event type is deleted, a host whose name is null, a host
 * `{ id: "unknown", … }` when the booking has no user, any BookingStatus lower-cased (`awaiting_host`),
 * updatedAt null, cancellationReason "".
 */
export function bookingOutput(booking: SandboxBooking, eventType: SandboxEventType | undefined, host: SandboxUser | undefined): Record<string, unknown> {
  const duration = Math.round((Date.parse(booking.end) - Date.parse(booking.start)) / 60_000);
  const loose = booking.loose ?? {};
  const hosts = loose.noUser
    ? [{ id: 'unknown', name: 'unknown', email: 'unknown', displayEmail: 'unknown', username: 'unknown', timeZone: 'unknown' }]
    : host
      ? [{ id: host.id, name: loose.hostNameNull ? null : host.name, email: host.email, displayEmail: host.email, username: host.username, timeZone: host.timeZone }]
      : [];
  return {
    id: booking.id,
    uid: booking.uid,
    title: booking.title,
    description: booking.description,
    hosts,
    status: booking.status,
    ...(loose.cancellationReasonEmpty ? { cancellationReason: '' } : {}),
    ...(booking.cancellationReason !== undefined && !loose.cancellationReasonEmpty ? { cancellationReason: booking.cancellationReason } : {}),
    ...(booking.cancelledByEmail ? { cancelledByEmail: booking.cancelledByEmail } : {}),
    ...(booking.reschedulingReason ? { reschedulingReason: booking.reschedulingReason } : {}),
    ...(booking.rescheduledByEmail ? { rescheduledByEmail: booking.rescheduledByEmail } : {}),
    ...(booking.rescheduledFromUid ? { rescheduledFromUid: booking.rescheduledFromUid } : {}),
    ...(booking.rescheduledToUid ? { rescheduledToUid: booking.rescheduledToUid } : {}),
    start: booking.start,
    end: booking.end,
    duration,
    eventTypeId: loose.eventTypeDeleted ? null : booking.eventTypeId,
    eventType: loose.eventTypeDeleted ? null : { id: booking.eventTypeId, slug: eventType?.slug ?? '' },
    meetingUrl: booking.location,
    location: booking.location,
    absentHost: booking.absentHost,
    createdAt: booking.createdAt,
    updatedAt: loose.updatedAtNull ? null : booking.updatedAt,
    metadata: booking.metadata,
    icsUid: booking.icsUid,
    attendees: booking.attendees.map((a) => ({
      name: a.name,
      email: a.email,
      displayEmail: a.email,
      timeZone: a.timeZone,
      language: a.language,
      absent: a.absent,
      ...(a.phoneNumber ? { phoneNumber: a.phoneNumber } : {}),
    })),
    guests: booking.guests,
    bookingFieldsResponses: booking.bookingFieldsResponses,
  };
}

/** `EventTypeOutput_2024_06_14`, with the fields it requires and the ones Calbridge reads. */
export function eventTypeOutput(eventType: SandboxEventType, owner: SandboxUser, appUrl: string): Record<string, unknown> {
  return {
    id: eventType.id,
    lengthInMinutes: eventType.lengthInMinutes,
    title: eventType.title,
    slug: eventType.slug,
    description: eventType.description,
    locations: [{ type: 'integration', integration: 'cal-video' }],
    bookingFields: [
      { type: 'name', label: 'Your name', placeholder: '', isDefault: true, slug: 'name', required: true },
      { type: 'email', label: 'Email address', placeholder: '', isDefault: true, slug: 'email', required: true },
    ],
    disableGuests: false,
    slotInterval: eventType.slotIntervalMinutes,
    minimumBookingNotice: eventType.minimumBookingNoticeMinutes,
    beforeEventBuffer: 0,
    afterEventBuffer: 0,
    recurrence: null,
    metadata: {},
    price: 0,
    currency: 'usd',
    lockTimeZoneToggleOnBookingPage: false,
    seatsPerTimeSlot: null,
    forwardParamsSuccessRedirect: null,
    successRedirectUrl: null,
    isInstantEvent: false,
    seatsShowAvailabilityCount: null,
    scheduleId: owner.defaultScheduleId,
    ...(eventType.requiresConfirmation ? { confirmationPolicy: { type: 'always', blockUnconfirmedBookingsInBooker: true } } : {}),
    hidden: eventType.hidden,
    bookingRequiresAuthentication: false,
    ownerId: owner.id,
    users: [owner.username],
    bookingUrl: `${appUrl}/${owner.username}/${eventType.slug}`,
  };
}

/** `MeOutput`. */
export function meOutput(user: SandboxUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    avatarUrl: user.avatarUrl,
    bio: user.bio,
    timeFormat: user.timeFormat,
    defaultScheduleId: user.defaultScheduleId,
    weekStart: user.weekStart,
    timeZone: user.timeZone,
    organizationId: null,
  };
}

/** `ManagedUserOutput`. */
export function managedUserOutput(user: SandboxUser): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    name: user.name,
    bio: user.bio,
    timeZone: user.timeZone,
    weekStart: user.weekStart,
    createdDate: user.createdDate,
    timeFormat: user.timeFormat,
    defaultScheduleId: user.defaultScheduleId,
    locale: user.locale,
    avatarUrl: user.avatarUrl,
    metadata: user.metadata,
  };
}

/** `UserWebhookOutputDto`. */
export function webhookOutput(hook: SandboxWebhook): Record<string, unknown> {
  return {
    // The DTO requires payloadTemplate; Cal.com returns its stored value (null when unset),
    // but the document types it as a non-nullable string, so the sandbox sends "" when unset.
    payloadTemplate: hook.payloadTemplate ?? '',
    triggers: hook.triggers,
    userId: hook.userId,
    id: hook.id,
    subscriberUrl: hook.subscriberUrl,
    active: hook.active,
    ...(hook.secret ? { secret: hook.secret } : {}),
  };
}
