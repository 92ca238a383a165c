import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Whether the host has come within 200px of the viewport since it was connected. It
 * observes from `hostConnected` until the first intersection and stops on `hostDisconnected`,
 * so an element removed from the page leaves no observer behind; one added again starts over
 * (it may now be far from view).
 */
export class ViewportController implements ReactiveController {
  /** The host is, or has been since it was connected, within 200px of the viewport. */
  near = false;
  #io?: IntersectionObserver;
  #host: ReactiveControllerHost & Element;

  constructor(host: ReactiveControllerHost & Element) {
    (this.#host = host).addController(this);
  }

  hostConnected(): void {
    const io = (this.#io = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        io.disconnect();
        this.near = true;
        this.#host.requestUpdate();
      },
      { rootMargin: '200px' },
    ));
    io.observe(this.#host);
  }

  hostDisconnected(): void {
    this.#io?.disconnect();
    this.near = false;
  }
}
