/** The time source. Injected so tests control time without a test mode. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
