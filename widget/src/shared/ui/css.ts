import { unsafeCSS, type CSSResult } from 'lit';

/**
 * Lit's `css` tag for our own stylesheets, which have no interpolation (the signature refuses
 * any): the literal text as a `CSSResult`, without the checks `css` makes on interpolated values,
 * whose messages would cost widget.js ~150 B gzip (decision 0026). The build's template minifier
 * treats css`` from here as it treats Lit's.
 */
export const css = (text: TemplateStringsArray): CSSResult => unsafeCSS(text[0]);
