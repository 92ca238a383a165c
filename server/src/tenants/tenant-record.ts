// A tenant as every capability reads it, in a module that imports nothing of ours, so the widget
// capability can type a tenant without reaching into the tenants repository or forming a cycle
// with the tenants service.
import type { WidgetSettings } from '@calbridge/shared';

/** A tenant row as plain data. */
export interface TenantRecord {
  id: string;
  slug: string;
  name: string;
  allowedOrigins: string[];
  calLink: string | null;
  timeZone: string;
  /** Widget settings the tenant set (validated on the way in); defaults are applied by the widget capability. */
  widget: WidgetSettings;
  createdAt: Date;
  updatedAt: Date;
}
