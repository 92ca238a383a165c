// Types of the embed feature for the element. Its code (the origin-checked frame session,
// message readers, booking metadata, embed-core) loads lazily.
export type { EmbedCallbacks, EmbedOptions, EmbedSession } from './embed-session.js';
