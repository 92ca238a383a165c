// Types of Cal.com's global queue API; no side effects, so the main bundle may import it.

/** A Cal namespace API: `Cal.ns[ns]("inline", {...})`. */
interface CalNamespaceApi {
  (...args: unknown[]): void;
  q: unknown[];
}

/** The global `Cal` function with its queue and namespaces. */
export interface CalGlobal {
  (...args: unknown[]): void;
  q: unknown[];
  ns: Record<string, CalNamespaceApi>;
  loaded?: boolean;
}

// embed-core's own typings declare `window.Cal` (and pull in React types), so we go through this view.
export const calOf = (w: Window): { Cal?: CalGlobal } => w as unknown as { Cal?: CalGlobal };
