/** The focused element, looking through open shadow roots. */
export function deepActiveElement(root: DocumentOrShadowRoot = document): HTMLElement | null {
  let el = root.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el as HTMLElement | null;
}

const FOCUSABLE = 'button:not([disabled]),[href],input:not([disabled]),select,textarea,iframe';

/** Focusable elements inside `root`, in tree order, skipping the trap's own guards. */
export const focusables = (root: ParentNode): HTMLElement[] =>
  [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hidden);
