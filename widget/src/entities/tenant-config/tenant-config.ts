import type { WidgetConfig } from '@calbridge/shared';
import { isHttpUrl, isObj, isOrigin, isStr, matches, must } from '../../shared/lib/read.js';
import { WidgetError } from '../../shared/lib/widget-error.js';

/** The tenant's public widget config (`GET /v1/widget/:tenant/config`). */
export type TenantConfig = WidgetConfig;

const MODES = ['inline', 'popup', 'floating', 'native'];
const THEMES = ['light', 'dark', 'auto'];
const PURPOSE_ID = /^[a-z][a-z0-9_-]{0,39}$/;
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const OWNER = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)?$/;
const EVENT = /^[A-Za-z0-9_.-]{1,100}$/;

/** Mirrors `WidgetConfig` from @calbridge/shared; returns null when `v` does not match. */
export function readTenantConfig(v: unknown): TenantConfig | null {
  if (!isObj(v) || !isObj(v.consent)) return null;
  const c = v.consent;
  const purposes = c.purposes;
  const ok =
    matches(SLUG, v.tenant) &&
    isStr(v.calLink, 200) && OWNER.test(v.calLink) &&
    isOrigin(v.calOrigin) &&
    (v.defaultEvent === undefined || matches(EVENT, v.defaultEvent)) &&
    isStr(c.version, 64) && isStr(c.text) && isHttpUrl(c.privacyPolicyUrl) &&
    Array.isArray(purposes) && purposes.length > 0 && purposes.length <= 10 &&
    purposes.every((p) => isObj(p) && matches(PURPOSE_ID, p.id) && typeof p.required === 'boolean' && isStr(p.label, 200)) &&
    purposes.some((p) => (p as { required: boolean }).required) &&
    THEMES.includes(v.theme as string) &&
    Array.isArray(v.modes) && v.modes.length > 0 && v.modes.every((m) => MODES.includes(m));
  return ok ? (v as TenantConfig) : null;
}

/**
 * Checks a config answer (`invalid_response` when it does not match) and that the tenant's
 * settings allow `mode` on its pages (`mode_not_allowed`). `native` is left to the native
 * chunk, which also needs the session's scope.
 */
export function checkTenantConfig(v: unknown, mode?: string): TenantConfig {
  const config = must(readTenantConfig(v));
  if (mode && mode !== 'native' && !(config.modes as string[]).includes(mode)) throw new WidgetError('mode_not_allowed');
  return config;
}


// In its own module so widget.js can build the fallback link without carrying the reader,
// which only the lazy chunk needs.
export { bookingLink } from './booking-link.js';
