import { Counter, type Registry } from 'prom-client';

/** Delivery attempts by destination kind and outcome (delivered, retry, gone, dead), on the app's registry. */
export function crmMetrics(registry: Registry): { attempts: Counter<'kind' | 'outcome'> } {
  const attempts =
    (registry.getSingleMetric('calbridge_crm_delivery_attempts_total') as Counter<'kind' | 'outcome'> | undefined) ??
    new Counter({
      name: 'calbridge_crm_delivery_attempts_total',
      help: 'CRM delivery attempts by destination kind (webhook, hubspot) and outcome (delivered, retry, gone, dead).',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    });
  return { attempts };
}
