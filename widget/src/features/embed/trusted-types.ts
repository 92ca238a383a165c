// Trusted Types for embed-core. embed-core assigns plain strings to `innerHTML` (its <style>
// elements at import, the shadow roots of cal-inline, cal-modal-box, cal-floating-button), which
// a page enforcing Trusted Types refuses unless a `default` policy passes them. Runs before
// embed-core (embed-chunk.ts imports it first); only when the page enforces Trusted Types
// and has no `default` policy of its own. The policy is as narrow as a default policy can be:
// - HTML passes only when the code assigning it is in this chunk (embed-core, bundled here:
//   this module's URL is the chunk's URL), told by the caller's frame in the stack;
// - script text and script URLs never pass (createScript / createScriptURL are not defined).
// A page that allows it names `default` in its `trusted-types` directive (README).

interface TrustedTypesLike {
  defaultPolicy: unknown;
  createPolicy(name: string, rules: { createHTML?: (s: string) => string | null }): unknown;
}

const tt = (window as unknown as { trustedTypes?: TrustedTypesLike }).trustedTypes;
const here = import.meta.url;

/** True when the frame that called the policy (the one assigning `innerHTML`) is in this chunk. */
const fromThisChunk = (): boolean => {
  const caller = new Error().stack?.split('\n').slice(2).find((l) => l.includes('://'));
  return !!caller?.includes(here);
};

if (tt && !tt.defaultPolicy) {
  try {
    tt.createPolicy('default', { createHTML: (s) => (fromThisChunk() ? s : null) });
  } catch {
    // The page's CSP names no `default` policy: embed-core's HTML is refused and the element
    // shows its frame error with the fallback link; nothing else on the page changes.
  }
}
