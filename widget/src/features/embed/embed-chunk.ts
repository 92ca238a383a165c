// The lazily loaded chunk: the Trusted Types exemption and the stub first, then Cal.com's
// loader (a side-effect IIFE).
import './trusted-types.js';
import './cal-loader.js';
import '@calcom/embed-core';
