import type { WidgetConfig } from '@calbridge/shared';

/** The Cal.com link of the booking page: owner path plus event slug. */
export const bookingLink = (config: Pick<WidgetConfig, 'calLink' | 'defaultEvent'>, event?: string | null): string =>
  [config.calLink, event || config.defaultEvent].filter(Boolean).join('/');
