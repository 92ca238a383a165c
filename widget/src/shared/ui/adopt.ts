import type { CSSResult } from 'lit';

/**
 * Adds `styles` to `host`'s shadow root, once. Rules that only lazy code needs (the dialog, the
 * post-consent frame box) come with that code rather than with widget.js (decisions 0026, 0032).
 */
export function adopt(host: Element, styles: CSSResult): void {
  const root = host.shadowRoot;
  const sheet = styles.styleSheet;
  if (root && sheet && !root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
}
