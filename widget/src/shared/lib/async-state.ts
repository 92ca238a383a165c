import type { ReactiveControllerHost } from 'lit';

/** 0 initial, 1 pending, 2 complete, 3 error — the same states as @lit/task's TaskStatus. */
export type AsyncStatus = 0 | 1 | 2 | 3;

/**
 * One asynchronous operation's state, rendered by its host: `run()` aborts the previous
 * run, ignores late results, and asks the host to update on every change.
 *
 * Why not @lit/task: it costs ~700 bytes gzipped of the 10 KB budget for widget.js, and the
 * element needs only this subset (explicit runs, abort, status, render).
 */
export class AsyncState<T> {
  status: AsyncStatus = 0;
  value?: T;
  error?: unknown;
  #run?: AbortController;

  /** A run is under way. */
  get pending(): boolean {
    return this.status === 1;
  }
  /** The last run succeeded; `value` holds its result. */
  get complete(): boolean {
    return this.status === 2;
  }
  /** The last run failed; `error` holds why. */
  get failed(): boolean {
    return this.status === 3;
  }

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly on: { complete?: (v: T) => void; error?: (e: unknown) => void } = {},
  ) {}

  /** Starts `fn`, aborting any run in progress; resolves when this run has settled. */
  async run(fn: (signal: AbortSignal) => Promise<T>): Promise<void> {
    this.#run?.abort();
    const run = (this.#run = new AbortController());
    this.status = 1;
    this.host.requestUpdate();
    try {
      const v = await fn(run.signal);
      if (run !== this.#run) return;
      this.value = v;
      this.status = 2;
      this.on.complete?.(v);
    } catch (e) {
      if (run !== this.#run) return;
      this.error = e;
      this.status = 3;
      this.on.error?.(e);
    }
    this.host.requestUpdate();
  }

  /** Aborts any run and goes back to the initial state. */
  reset(): void {
    this.#run?.abort();
    this.#run = undefined;
    this.status = 0;
    this.host.requestUpdate();
  }

  /** Renders the template for the current state. */
  render<R>(r: { initial?: () => R; pending?: () => R; complete?: (v: T) => R; error?: (e: unknown) => R }): R | undefined {
    const s = this.status;
    return s === 0 ? r.initial?.() : s === 1 ? r.pending?.() : s === 2 ? r.complete?.(this.value as T) : r.error?.(this.error);
  }
}
