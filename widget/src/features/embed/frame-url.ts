// The parent side of Cal.com's embed, part 1: which URL the frame loads. Cal.com's booking page
// decides from this URL that it is embedded (`embed=<namespace>`), how (`embedType`), and what
// to prefill; so we build it exactly as @calcom/embed-core 1.5.3 does for `Cal("inline", …)`
// (packages/embeds/embed-core/src/embed.ts: `CalApi.inline`, `Cal.ensureGuestKey`,
// `withColorScheme`, `Cal.createIframe`, `Cal.buildFilteredQueryParams`). frame-url.test.ts
// runs the real embed-core beside this code and compares the URLs, so a drift shows.

/**
 * The origin embed-core actually frames for `calOrigin`: it rewrites `https://cal.com` to
 * `https://app.cal.com` (embed.ts `createIframe`: `calOrigin.replace("https://cal.com",
 * "https://app.cal.com")`), so the frame and its messages are on that origin.
 */
const rewrite = (calOrigin: string): string => calOrigin.replace('https://cal.com', 'https://app.cal.com');

/** The origin messages from the frame come from (and ours go to). */
export const frameOrigin = (calOrigin: string): string => new URL(rewrite(calOrigin)).origin;

export interface FrameUrlOptions {
  calOrigin: string;
  calLink: string;
  namespace: string;
  /** The embed `config` (prefill, theme, UTM, `metadata[…]`): each entry becomes a query parameter. */
  config: Record<string, string>;
  /**
   * The computed `color-scheme` of the box the frame goes into: embed-core passes `light` or
   * `dark` on as `ui.color-scheme` (anything else, such as `light dark`, is left out).
   */
  colorScheme: string;
}

/**
 * `${origin}/${calLink}/embed?embed=<ns>&<config…>&embedType=inline[&ui.color-scheme=…]`.
 * embed-core adds `embedType` after the config's own keys, then `guest` (only when `guests` is
 * set: we never set it), then `ui.color-scheme`; `/embed` is appended unless the path already
 * ends in `embed`. `forwardQueryParams` (copying the host page's query) is off by default in
 * embed-core and we never turn it on: the page's UTM values reach the frame through `config`.
 */
export function frameUrl(o: FrameUrlOptions): string {
  const params: Record<string, string> = { ...o.config, embedType: 'inline' };
  if (!params['ui.color-scheme'] && (o.colorScheme === 'dark' || o.colorScheme === 'light')) params['ui.color-scheme'] = o.colorScheme;
  const url = new URL(`${rewrite(o.calOrigin)}/${o.calLink}`);
  if (!url.pathname.endsWith('embed')) url.pathname = `${url.pathname}/embed`;
  url.searchParams.set('embed', o.namespace);
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  return url.toString();
}
