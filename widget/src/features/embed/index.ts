// Types of the embed feature for the element. Its code (the origin-checked frame session,
// message readers, booking metadata, embed-core) loads lazily.
export type {   EmbedSession } from './embed-session.js';
