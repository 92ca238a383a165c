import { watchTenant } from './api.js';
import { LightElement } from './base.js';
import type { Tenant } from '../pages/tenants-page.js';

/**
 * A section that shows a list and keeps it fresh: it loads on connect and again
 * whenever the server's event stream says one of `topics` changed; "Updated"
 * is announced politely, never stealing focus.
 */
export abstract class LiveList<T> extends LightElement {
  static override properties = { tenant: { attribute: false }, page: { attribute: false }, items: { state: true }, error: { state: true }, notice: { state: true } };
  declare tenant: Tenant;
  declare page: { refresh(): Promise<void> };
  declare items: T[] | null;
  declare error: string | null;
  declare notice: string;
  protected abstract readonly topics: string[];
  private stop: (() => void) | null = null;

  constructor() {
    super();
    this.items = null;
    this.error = null;
    this.notice = '';
  }

  protected abstract fetchItems(): Promise<T[]>;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
    if (this.topics.length > 0) {
      this.stop = watchTenant(this.tenant.slug, (topics) => {
        if (topics.some((t) => this.topics.includes(t))) void this.reload(true);
      });
    }
  }

  override disconnectedCallback(): void {
    this.stop?.();
    this.stop = null;
    super.disconnectedCallback();
  }

  async reload(live = false): Promise<void> {
    try {
      this.items = await this.fetchItems();
      this.error = null;
      if (live) this.notice = `Updated at ${new Date().toLocaleTimeString('en-GB')}`;
    } catch (err) {
      this.error = (err as Error).message;
    }
  }
}
