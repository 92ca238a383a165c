// Types of the embed feature for the element. Its code (the frame, its origin-checked
// messages, booking metadata and reports) loads lazily, in the element's lazy chunk.
export type { EmbedSession } from './embed-session.js';
