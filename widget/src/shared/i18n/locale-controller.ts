import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * The host's strings for its locale: its `locale` property, else the nearest `lang` attribute,
 * else the browser's language. The locale is resolved before every update (`hostUpdate`), so a
 * changed property or a host moved under another `lang` gets its strings; `load` may answer at
 * once (strings in the same chunk) or later (a locale chunk). Until it answers, `t` is the
 * fallback; a late answer for a locale no longer wanted is dropped.
 */
export class LocaleController<S> implements ReactiveController {
  /** The resolved BCP 47 tag ('' before the first update). */
  locale = '';
  /** The strings in use. */
  t: S;
  #host: ReactiveControllerHost & HTMLElement & { locale?: string | undefined };
  #load: (locale: string) => S | Promise<S>;

  constructor(host: ReactiveControllerHost & HTMLElement & { locale?: string | undefined }, load: (locale: string) => S | Promise<S>, fallback: S) {
    this.t = fallback;
    this.#load = load;
    (this.#host = host).addController(this);
  }

  hostConnected(): void {
    // Added again, perhaps under another `lang`: resolve again.
    this.#host.requestUpdate();
  }

  hostUpdate(): void {
    const locale = this.#host.locale || this.#host.closest<HTMLElement>('[lang]')?.lang || navigator.language;
    if (locale === this.locale) return;
    this.locale = locale;
    const t = this.#load(locale);
    if (!(t instanceof Promise)) return void (this.t = t);
    void t.then((t) => {
      if (locale !== this.locale) return;
      this.t = t;
      this.#host.requestUpdate();
    });
  }
}
