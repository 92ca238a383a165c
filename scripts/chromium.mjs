// The Chromium that tests, benches and the widget's browser tests start: Debian's (CHROMIUM_PATH
// for another build; scripts/lib.mjs ensureChromium installs and finds it), with these flags.
// Whoever starts it adds headless its own way (Playwright's option, or `--headless`).

/** The browser's executable. */
export const chromiumPath = () => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for every run: no sandbox (containers), no GPU, no QUIC, no background traffic or updates. */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]);
