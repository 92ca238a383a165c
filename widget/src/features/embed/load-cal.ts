import { WidgetError } from '../../shared/lib/widget-error.js';
import { calOf, type CalGlobal } from './cal-global.js';

let loading: Promise<CalGlobal> | undefined;

/**
 * Loads embed-core once per page, in its own chunk. If the host page already runs Cal.com's
 * loader (it defines `cal-inline`), that copy is reused: a second copy would throw.
 */
export function loadCal(): Promise<CalGlobal> {
  loading ??= (customElements.get('cal-inline') && calOf(window).Cal ? Promise.resolve() : import('./embed-chunk.js'))
    .then(() => calOf(window).Cal!)
    .catch((e: unknown) => {
      loading = undefined;
      throw new WidgetError('embed_load_failed', 0, { cause: e });
    });
  return loading;
}
