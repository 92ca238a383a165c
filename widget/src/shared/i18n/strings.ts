// Every visible or announced string, keyed by locale. English ships in widget.js and is the
// fallback and the reference (other locales must define every key, checked by the type);
// other locales are small lazy chunks, loaded only on pages that need them.

import { en, type Strings } from './en.js';

export { en, type Strings };

const table: Record<string, () => Promise<{ default: Strings }>> = {
  de: () => import('./de.js'),
  fr: () => import('./fr.js'),
};

/** Strings for a BCP 47 tag: `de-AT` uses `de`; anything unknown, or a chunk that fails to load, uses English. */
export const loadStrings = async (locale: string | undefined): Promise<Strings> =>
  (await table[(locale ?? '').toLowerCase().split('-')[0]!]?.().catch(() => undefined))?.default ?? en;
