import type { ReactiveControllerHost } from 'lit';

/** One run's state by name: the same states as @lit/task's TaskStatus, each with what it holds. */
export type AsyncStatus<T> = { status: 'initial' } | { status: 'pending' } | { status: 'complete'; value: T } | { status: 'failed'; error: unknown };

/**
 * One asynchronous operation's state, rendered by its host: `run()` aborts the previous
 * run, ignores late results, and asks the host to update on every change.
 *
 * Why not @lit/task: it costs ~700 bytes gzipped, and the elements need only this subset
 * (explicit runs, abort, status, render). Native mode's free times use it, in their lazy chunk.
 */
export class AsyncState<T> {
  state: AsyncStatus<T> = { status: 'initial' };
  #run?: AbortController;

  /** A run is under way. */
  get pending(): boolean {
    return this.state.status === 'pending';
  }
  /** The last run succeeded; `value` holds its result. */
  get complete(): boolean {
    return this.state.status === 'complete';
  }
  /** The last run failed; its error is in `state`. */
  get failed(): boolean {
    return this.state.status === 'failed';
  }
  /** The last successful run's result, while it is the current state. */
  get value(): T | undefined {
    return this.state.status === 'complete' ? this.state.value : undefined;
  }

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly on: { complete?: (v: T) => void; error?: (e: unknown) => void } = {},
  ) {}

  /** Starts `fn`, aborting any run in progress; resolves when this run has settled. */
  async run(fn: (signal: AbortSignal) => Promise<T>): Promise<void> {
    this.#run?.abort();
    const run = (this.#run = new AbortController());
    this.state = { status: 'pending' };
    this.host.requestUpdate();
    try {
      const value = await fn(run.signal);
      if (run !== this.#run) return;
      this.state = { status: 'complete', value };
      this.on.complete?.(value);
    } catch (error) {
      if (run !== this.#run) return;
      this.state = { status: 'failed', error };
      this.on.error?.(error);
    }
    this.host.requestUpdate();
  }

  /** Renders the template for the current state. */
  render<R>(r: { initial: () => R; pending: () => R; complete: (v: T) => R; error: (e: unknown) => R }): R {
    const s = this.state;
    switch (s.status) {
      case 'initial':
        return r.initial();
      case 'pending':
        return r.pending();
      case 'complete':
        return r.complete(s.value);
      case 'failed':
        return r.error(s.error);
    }
  }
}
