import type { Strings } from './en.js';

const fr: Strings = {
  book: 'Réserver un appel',
  close: 'Fermer',
  frameTitle: 'Calendrier de réservation',
  consentLegend: 'Avant le chargement du calendrier',
  required: 'obligatoire',
  optional: 'facultatif',
  policy: 'Politique de confidentialité',
  policyNewTab: '(nouvel onglet)',
  agree: 'Accepter et afficher le calendrier',
  loading: 'Chargement du calendrier…',
  booked: 'Votre réservation est confirmée.',
  retry: 'Réessayer',
  fallback: 'Ouvrir plutôt la page de réservation',
  network_error: 'Le service de réservation est injoignable.',
  tenant_not_found: 'Cette page de réservation n’est pas disponible.',
  rate_limited: 'Trop de tentatives. Patientez un instant puis réessayez.',
  frame: 'Le calendrier de réservation ne s’est pas chargé.',
  error: 'Une erreur est survenue.',
};

export default fr;
