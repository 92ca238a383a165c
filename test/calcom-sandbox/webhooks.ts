import { createHmac } from 'node:crypto';
import type { SandboxStore } from './store.js';
import type { SandboxWebhook } from './types.js';

/**
 * Webhook delivery the way Cal.com does it
 * (packages/features/webhooks/lib/sendPayload.ts and the tasker's `webhookDelivery`).
 *
 * Retries: `_sendPayload` returns `{ ok, status }` for any HTTP answer and never throws for a 4xx/5xx;
 * the tasker (packages/features/tasker/tasks/sendWebook.ts, task-processor.ts) retries only when the
 * handler throws, i.e. on network errors (refused, reset, DNS, timeout). So an HTTP error answer
 * ends the delivery at once; only a failed connection is tried again.
 */

/** Cal.com's `createWebhookSignature`: lowercase hex HMAC-SHA256 of the exact body, or the literal `no-secret-provided`. */
export function calWebhookSignature(secret: string | null | undefined, body: string): string {
  return secret ? createHmac('sha256', secret).update(body).digest('hex') : 'no-secret-provided';
}

/** Fault knobs for reliability tests. All off by default. */
export interface WebhookFaults {
  /** Send every delivery twice (same body, same headers). */
  deliverTwice: boolean;
  /**
   * Hold deliveries until `flush()`/`releaseHeld()`, then send them in
   * reverse (`true`/`'reverse'`) or random (`'shuffle'`) order.
   */
  outOfOrder: boolean | 'reverse' | 'shuffle';
  /** Wait this long before the first attempt of each delivery. */
  delayMs: number;
  /** Record deliveries without sending them. */
  drop: boolean;
  /** Send a wrong `X-Cal-Signature-256` (right length, wrong value). */
  corruptSignature: boolean;
}

export const NO_FAULTS: Readonly<WebhookFaults> = Object.freeze({
  deliverTwice: false,
  outOfOrder: false,
  delayMs: 0,
  drop: false,
  corruptSignature: false,
});

export interface DeliveryAttempt {
  at: string;
  /** HTTP status, or null when the request itself failed. */
  status: number | null;
  error?: string;
  /** Response body text (truncated), as Cal.com keeps it in `message`. */
  responseText?: string;
}

export type DeliveryState = 'queued' | 'held' | 'retrying' | 'delivered' | 'failed' | 'dropped';

/** One webhook delivery (with all of its attempts). */
export interface DeliveryRecord {
  id: number;
  webhookId: string;
  subscriberUrl: string;
  triggerEvent: string;
  createdAt: string;
  /** Exact body sent. */
  body: string;
  /** Exact headers sent. */
  headers: Record<string, string>;
  state: DeliveryState;
  attempts: DeliveryAttempt[];
  /** Set on the second copy when `deliverTwice` is on. */
  duplicateOf?: number;
  /** MEETING_STARTED / MEETING_ENDED sent by handleWebhookScheduledTriggers.ts: one attempt, never retried. */
  scheduled?: boolean;
}

export interface DispatcherOptions {
  store: SandboxStore;
  fetch: typeof fetch;
  clock: () => Date;
  /** Attempts per delivery; Cal.com's queued path makes up to 3. */
  maxAttempts: number;
  /** Gap between attempts; Cal.com waits at least 5 minutes. */
  retryDelayMs: number;
}

const FINAL: ReadonlySet<DeliveryState> = new Set(['delivered', 'failed', 'dropped']);

export class WebhookDispatcher {
  private records: DeliveryRecord[] = [];
  private held: DeliveryRecord[] = [];
  private timers = new Map<number, { timer: NodeJS.Timeout; run: () => void }>();
  private inFlight = new Set<Promise<void>>();
  private waiters: Array<() => void> = [];
  private nextId = 1;
  faults: WebhookFaults = { ...NO_FAULTS };

  constructor(private readonly opts: DispatcherOptions) {}

  /** Subscribers of `userId` that would receive `trigger`. */
  subscribers(userId: number, trigger: string): SandboxWebhook[] {
    return [...this.opts.store.webhooks.values()].filter(
      (w) => w.userId === userId && w.active && w.triggers.includes(trigger),
    );
  }

  /** Queues `trigger` with `payload` to every matching subscriber of `userId`. */
  emit(trigger: string, userId: number, payload: Record<string, unknown>): void {
    const createdAt = this.opts.clock().toISOString();
    for (const hook of this.subscribers(userId, trigger)) {
      const { body, contentType } = renderBody(hook, trigger, createdAt, payload);
      let signature = calWebhookSignature(hook.secret, body);
      if (this.faults.corruptSignature) signature = corrupt(signature);
      const headers = {
        'Content-Type': contentType,
        'X-Cal-Signature-256': signature,
        'X-Cal-Webhook-Version': hook.version,
      };
      const copies = this.faults.deliverTwice ? 2 : 1;
      let firstId: number | undefined;
      for (let i = 0; i < copies; i += 1) {
        const record: DeliveryRecord = {
          id: this.nextId++,
          webhookId: hook.id,
          subscriberUrl: hook.subscriberUrl,
          triggerEvent: trigger,
          createdAt,
          body,
          headers: { ...headers },
          state: 'queued',
          attempts: [],
          ...(firstId !== undefined ? { duplicateOf: firstId } : {}),
        };
        firstId ??= record.id;
        this.records.push(record);
        this.schedule(record);
      }
    }
  }

  /**
   * Sends a due MEETING_STARTED / MEETING_ENDED row the way handleWebhookScheduledTriggers.ts does:
   * the stored payload string as the body, `Content-Type` and `X-Cal-Signature-256` only (no
   * `X-Cal-Webhook-Version`), one attempt, no retry. `createdAt` inside the body is the booking's.
   */
  sendScheduled(trigger: { webhookId: string; subscriberUrl: string; triggerEvent: string; payload: string }, secret: string | null): void {
    let signature = calWebhookSignature(secret, trigger.payload);
    if (this.faults.corruptSignature) signature = corrupt(signature);
    const record: DeliveryRecord = {
      id: this.nextId++,
      webhookId: trigger.webhookId,
      subscriberUrl: trigger.subscriberUrl,
      triggerEvent: trigger.triggerEvent,
      createdAt: this.opts.clock().toISOString(),
      body: trigger.payload,
      headers: { 'Content-Type': 'application/json', 'X-Cal-Signature-256': signature },
      state: 'queued',
      attempts: [],
      scheduled: true,
    };
    this.records.push(record);
    this.schedule(record);
  }

  private schedule(record: DeliveryRecord): void {
    if (this.faults.drop) {
      this.settle(record, 'dropped');
      return;
    }
    if (this.faults.outOfOrder) {
      record.state = 'held';
      this.held.push(record);
      return;
    }
    const delay = this.faults.delayMs;
    if (delay > 0) this.later(record, delay);
    else this.track(this.attempt(record));
  }

  private later(record: DeliveryRecord, ms: number): void {
    const run = (): void => {
      this.timers.delete(record.id);
      this.track(this.attempt(record));
    };
    const timer = setTimeout(run, ms);
    timer.unref();
    this.timers.set(record.id, { timer, run });
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async attempt(record: DeliveryRecord): Promise<void> {
    record.state = 'queued';
    const at = this.opts.clock().toISOString();
    let attempt: DeliveryAttempt;
    try {
      const res = await this.opts.fetch(record.subscriberUrl, {
        method: 'POST',
        headers: record.headers,
        body: record.body,
        // Cal.com does not follow redirects for webhooks.
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text().catch(() => '');
      attempt = { at, status: res.status, ...(text ? { responseText: text.slice(0, 500) } : {}) };
    } catch (err) {
      attempt = { at, status: null, error: err instanceof Error ? err.message : String(err) };
    }
    record.attempts.push(attempt);
    const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
    if (ok) this.settle(record, 'delivered');
    // An HTTP error answer is final (sendPayload.ts does not throw for it, so the tasker never retries);
    // scheduled meeting triggers are tried once whatever happens (handleWebhookScheduledTriggers.ts).
    else if (attempt.status !== null || record.scheduled) this.settle(record, 'failed');
    else if (record.attempts.length >= this.opts.maxAttempts) this.settle(record, 'failed');
    else {
      record.state = 'retrying';
      this.later(record, this.opts.retryDelayMs);
    }
  }

  private settle(record: DeliveryRecord, state: DeliveryState): void {
    record.state = state;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Sends held deliveries (fault `outOfOrder`) one after another in shuffled or reversed order. */
  async releaseHeld(order?: 'reverse' | 'shuffle'): Promise<void> {
    const batch = this.held.splice(0);
    const mode = order ?? (this.faults.outOfOrder === 'shuffle' ? 'shuffle' : 'reverse');
    if (mode === 'reverse') batch.reverse();
    else {
      for (let i = batch.length - 1; i > 0; i -= 1) {
        const j = Math.floor(Math.random() * (i + 1));
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
      // A shuffle that changed nothing would not be "out of order"; reverse instead.
      if (batch.length > 1 && batch.every((r, i) => i === 0 || r.id > batch[i - 1]!.id)) batch.reverse();
    }
    for (const record of batch) {
      // Sequential first attempts make the arrival order the one chosen here.
      const p = this.attempt(record);
      this.track(p);
      await p;
    }
  }

  /**
   * Releases held deliveries, runs pending delays/retries now (skipping the
   * wait), and resolves when nothing is left in flight.
   */
  async flush(): Promise<void> {
    for (let round = 0; round < 100; round += 1) {
      if (this.held.length) await this.releaseHeld();
      for (const { timer, run } of [...this.timers.values()]) {
        clearTimeout(timer);
        run();
      }
      if (this.inFlight.size === 0 && this.timers.size === 0 && this.held.length === 0) return;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** Resolves with the deliveries once at least `n` have reached a final state. */
  async waitFor(n: number, timeoutMs: number): Promise<DeliveryRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = this.records.filter((r) => FINAL.has(r.state));
      if (done.length >= n) return this.list();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${n} settled webhook deliveries; ` +
            `have ${done.length} settled of ${this.records.length} (${this.records.map((r) => `${r.triggerEvent}:${r.state}`).join(', ')})`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        t.unref();
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Copies of all delivery records, oldest first. */
  list(): DeliveryRecord[] {
    return this.records.map((r) => ({ ...r, headers: { ...r.headers }, attempts: r.attempts.map((a) => ({ ...a })) }));
  }

  /** Forgets deliveries and faults; cancels timers (reset / close). */
  clear(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.records = [];
    this.held = [];
    this.faults = { ...NO_FAULTS };
  }
}

function corrupt(signature: string): string {
  if (signature === 'no-secret-provided') return 'no-secret-provided-corrupted';
  const last = signature.at(-1) === '0' ? '1' : '0';
  return signature.slice(0, -1) + last;
}

/**
 * Default body is `JSON.stringify({ triggerEvent, createdAt, payload })`.
 * With a `payloadTemplate` Cal.com renders it with Handlebars over
 * `{ ...payload, triggerEvent, createdAt }`; the sandbox supports the subset
 * Calbridge could need — `{{path.to.value}}` substitution — and, like
 * Cal.com, sends form-encoded when the rendered template is not JSON.
 */
function renderBody(
  hook: SandboxWebhook,
  triggerEvent: string,
  createdAt: string,
  payload: Record<string, unknown>,
): { body: string; contentType: string } {
  if (!hook.payloadTemplate) {
    return { body: JSON.stringify({ triggerEvent, createdAt, payload }), contentType: 'application/json' };
  }
  const data: Record<string, unknown> = { ...payload, triggerEvent, createdAt };
  const compiled = hook.payloadTemplate.replace(/{{\s*([\w.]+)\s*}}/g, (_m, path: string) => {
    let v: unknown = data;
    for (const key of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    if (v === undefined || v === null) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
  const isJsonTemplate = (() => {
    try {
      JSON.parse(hook.payloadTemplate);
      return true;
    } catch {
      return false;
    }
  })();
  if (isJsonTemplate) {
    let body: string;
    try {
      body = JSON.stringify(JSON.parse(compiled));
    } catch {
      // Cal.com's jsonParse returns false on failure, so it sends "false".
      body = 'false';
    }
    return { body, contentType: 'application/json' };
  }
  return { body: compiled, contentType: 'application/x-www-form-urlencoded' };
}
