import { css } from '../../shared/ui/css.js';

// Colours use light-dark(); `theme` (or the tenant's theme) sets color-scheme on .base.
// The open dialog's own rules are in calbridge-booking.dialog.ts (lazy chunk, decision 0026);
// the post-consent frame box's in calbridge-booking.view.ts (lazy chunk, decision 0032).
export const styles = css`
  :host {
    display: block;
    color-scheme: light dark;
    --a: var(--calbridge-accent, light-dark(#1d4ed8, #93b4ff));
    --b: var(--calbridge-background, light-dark(#fff, #111827));
    --r: var(--calbridge-radius, 8px);
    --h: var(--calbridge-inline-height, 700px);
  }
  :host([mode='popup']) {
    display: inline-block;
  }
  .base {
    color: var(--calbridge-color, light-dark(#111827, #f3f4f6));
  }
  [data-theme='light'] {
    color-scheme: light;
  }
  [data-theme='dark'] {
    color-scheme: dark;
  }
  .inline {
    background: var(--b);
    color: inherit;
    border-radius: var(--r);
    min-height: var(--h);
  }
  .panel {
    padding: 1rem;
    outline: 0;
  }
  fieldset {
    border: 0;
    padding: 0;
  }
  legend {
    font-weight: 600;
  }
  label {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    margin: 0.5rem 0;
  }
  input {
    width: 1.25rem;
    height: 1.25rem;
    accent-color: var(--a);
  }
  a {
    color: var(--a);
    margin-inline-end: 1rem;
  }
  button {
    font: inherit;
    min-width: 24px;
    min-height: 24px;
    border-radius: var(--r);
  }
  .primary {
    padding: 0.6rem 1.1rem;
    border: 2px solid transparent;
    background: var(--a);
    color: var(--calbridge-on-accent, light-dark(#fff, #0b1220));
    font-weight: 600;
  }
  .launcher {
    position: fixed;
    inset: auto 1.25rem 1.25rem auto;
    z-index: 2147483000;
    border-radius: 2rem;
  }
  :focus-visible {
    outline: 3px solid var(--a);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
  }
  @media (forced-colors: active) {
    button {
      border: 2px solid ButtonText;
    }
    :focus-visible {
      outline-color: Highlight;
    }
  }
`;
