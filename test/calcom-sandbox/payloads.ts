import { offsetMinutes } from './time.js';
import type { SandboxBooking, SandboxEventType, SandboxUser } from './types.js';

/**
 * The webhook `payload` for booking triggers: Cal.com's `EventPayloadType`
 * (CalendarEvent + EventTypeInfo + extras; FACTS.md, sendPayload.ts).
 * `utcOffset` is added per person as sendPayload's addUTCOffset does.
 * Status is upper case here (Prisma enum), lower case in API v2 outputs.
 */
export function bookingWebhookPayload(
  booking: SandboxBooking,
  eventType: SandboxEventType,
  owner: SandboxUser,
): Record<string, unknown> {
  const start = new Date(booking.start);
  const notes = typeof booking.bookingFieldsResponses['notes'] === 'string' ? booking.bookingFieldsResponses['notes'] : null;
  // `responses` holds the booking form answers as { label, value }; Cal.com's
  // labels for the default fields are these i18n keys.
  const responses: Record<string, { label: string; value: unknown }> = {
    name: { label: 'your_name', value: booking.attendees[0]?.name ?? '' },
    email: { label: 'email_address', value: booking.attendees[0]?.email ?? '' },
    location: { label: 'location', value: { optionValue: '', value: 'integrations:daily' } },
    guests: { label: 'additional_guests', value: booking.guests },
    ...(notes ? { notes: { label: 'additional_notes', value: notes } } : {}),
  };
  const userFieldsResponses: Record<string, { label: string; value: unknown }> = {};
  for (const [key, value] of Object.entries(booking.bookingFieldsResponses)) {
    if (['name', 'email', 'guests', 'notes', 'location'].includes(key)) continue;
    responses[key] = { label: key, value };
    userFieldsResponses[key] = { label: key, value };
  }
  return {
    type: eventType.slug,
    title: booking.title,
    description: booking.description || notes,
    additionalNotes: notes,
    customInputs: {},
    startTime: booking.start,
    endTime: booking.end,
    organizer: {
      id: owner.id,
      name: owner.name,
      email: owner.email,
      username: owner.username,
      timeZone: owner.timeZone,
      language: { locale: owner.locale },
      timeFormat: owner.timeFormat === 12 ? 'h:mma' : 'HH:mm',
      utcOffset: offsetMinutes(start, owner.timeZone),
    },
    attendees: booking.attendees.map((a) => ({
      name: a.name,
      email: a.email,
      timeZone: a.timeZone,
      language: { locale: a.language },
      ...(a.phoneNumber ? { phoneNumber: a.phoneNumber } : {}),
      utcOffset: offsetMinutes(start, a.timeZone),
    })),
    responses,
    userFieldsResponses,
    location: booking.location,
    uid: booking.uid,
    bookingId: booking.id,
    eventTypeId: eventType.id,
    eventTitle: eventType.title,
    eventDescription: eventType.description,
    requiresConfirmation: eventType.requiresConfirmation,
    price: 0,
    currency: 'usd',
    length: eventType.lengthInMinutes,
    // Cal.com adds videoCallUrl next to the booking's own metadata.
    metadata: { videoCallUrl: booking.location, ...booking.metadata },
    status: booking.status.toUpperCase(),
    ...(booking.cancellationReason ? { cancellationReason: booking.cancellationReason } : {}),
  };
}
