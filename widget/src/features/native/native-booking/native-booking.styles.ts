import { css } from '../../../shared/ui/css.js';

// Inherits the host element's custom properties (--a accent, --r radius) through the shadow tree.
export const styles = css`
  :host {
    display: block;
    --a: var(--calbridge-accent, light-dark(#1d4ed8, #93b4ff));
    --r: var(--calbridge-radius, 8px);
  }
  h3,
  h4 {
    margin: 0.75rem 0 0.5rem;
    font-size: 1.05rem;
  }
  .tz,
  .field {
    display: flex;
    flex-direction: column;
    gap: 0.25rem;
    margin-block: 0.5rem;
  }
  select,
  input {
    font: inherit;
    padding: 0.4rem 0.5rem;
    border: 1px solid light-dark(#6b7280, #9ca3af);
    border-radius: var(--r);
    background: transparent;
    color: inherit;
    max-width: 24rem;
  }
  .nav {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    margin-block: 0.5rem;
  }
  button {
    font: inherit;
    min-width: 44px;
    min-height: 44px;
    border-radius: var(--r);
    border: 1px solid light-dark(#6b7280, #9ca3af);
    background: transparent;
    color: inherit;
  }
  button[disabled] {
    opacity: 0.6;
  }
  table {
    border-collapse: separate;
    border-spacing: 4px;
  }
  th {
    font-weight: 600;
    font-size: 0.85rem;
  }
  abbr {
    text-decoration: none;
  }
  td {
    width: 2.75rem;
    height: 2.75rem;
    text-align: center;
    border-radius: var(--r);
    cursor: pointer;
    color: light-dark(#4b5563, #9ca3af);
  }
  td.free {
    color: inherit;
    font-weight: 600;
    background: light-dark(#e0e7ff, #1e293b);
  }
  td[aria-selected='true'] {
    background: var(--a);
    color: var(--calbridge-on-accent, light-dark(#fff, #0b1220));
  }
  .slots {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    list-style: none;
    padding: 0;
  }
  .slots button {
    padding: 0.4rem 0.9rem;
    border-color: var(--a);
    color: var(--a);
    font-weight: 600;
  }
  .primary {
    padding: 0.6rem 1.1rem;
    border: 2px solid transparent;
    background: var(--a);
    color: var(--calbridge-on-accent, light-dark(#fff, #0b1220));
    font-weight: 600;
    margin-top: 0.5rem;
  }
  .link {
    border: 0;
    text-decoration: underline;
    color: var(--a);
    padding: 0;
  }
  .field-error {
    color: light-dark(#b91c1c, #fca5a5);
    margin: 0;
  }
  .done {
    font-weight: 600;
    outline: 0;
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
    td[aria-selected='true'] {
      outline: 2px solid Highlight;
    }
    :focus-visible {
      outline-color: Highlight;
    }
  }
`;
