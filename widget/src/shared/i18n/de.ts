import type { Strings } from './en.js';

const de: Strings = {
  book: 'Termin buchen',
  close: 'Schließen',
  frameTitle: 'Buchungskalender',
  consentLegend: 'Bevor der Buchungskalender lädt',
  required: 'erforderlich',
  optional: 'optional',
  policy: 'Datenschutzerklärung',
  policyNewTab: '(öffnet in neuem Tab)',
  agree: 'Zustimmen und Kalender anzeigen',
  loading: 'Buchungskalender wird geladen…',
  booked: 'Ihre Buchung ist bestätigt.',
  retry: 'Erneut versuchen',
  fallback: 'Stattdessen die Buchungsseite öffnen',
  network_error: 'Der Buchungsdienst ist nicht erreichbar.',
  tenant_not_found: 'Diese Buchungsseite ist nicht verfügbar.',
  rate_limited: 'Zu viele Versuche. Bitte warten Sie kurz und versuchen Sie es erneut.',
  frame: 'Der Buchungskalender wurde nicht geladen.',
  error: 'Etwas ist schiefgelaufen.',
};

export default de;
