// The lazily loaded chunk: the stub first, then Cal.com's loader (a side-effect IIFE).
import './cal-loader.js';
import '@calcom/embed-core';
