import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ConsentChoice } from '../../entities/session/session.js';
import type { TenantConfig } from '../../entities/tenant-config/tenant-config.js';
import { watchCmp } from './cmp.js';

/**
 * Consent from the page's consent manager (`tcf` or `gcm`, see `watchCmp`), watched while the
 * host is connected: from `hostConnected` (at once when added to a connected host) until it
 * grants or `stop()`; `hostDisconnected` takes the watch off the page, and a host added again
 * watches again. `granted` is called at most once.
 */
export class CmpController implements ReactiveController {
  #host: ReactiveControllerHost;
  #watch: (granted: (c: ConsentChoice) => void) => (() => void) | undefined;
  #granted: (c: ConsentChoice) => void;
  #stop?: (() => void) | undefined;

  constructor(host: ReactiveControllerHost, kind: string, config: TenantConfig, granted: (c: ConsentChoice) => void, win: Window = window) {
    this.#watch = (g) => watchCmp(kind, config, g, win);
    this.#granted = granted;
    (this.#host = host).addController(this);
  }

  hostConnected(): void {
    this.#stop = this.#watch((c) => {
      this.stop();
      this.#granted(c);
    });
  }

  hostDisconnected(): void {
    this.#stop?.();
  }

  /** Stops watching for good (consent came, by this route or another). */
  stop(): void {
    this.#stop?.();
    this.#host.removeController(this);
  }
}
