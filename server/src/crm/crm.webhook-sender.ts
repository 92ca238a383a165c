import type { OutboundFetch } from './crm.pinned-fetch.js';
import { signedHeaders } from './standard-webhooks.js';
import { fromResponse, fromThrown, type SendResult } from './crm.send.js';

/** The `webhook-id` of a message: stable across attempts and replays, so receivers deduplicate on it. */
export const webhookId = (messageId: string) => `msg_${messageId.replace(/-/g, '')}`;

/**
 * Sends one message as a Standard Webhooks delivery: the stored payload
 * `{ type, timestamp, data }` as the JSON body, signed with every valid
 * secret of the destination.
 */
export async function sendWebhook(opts: {
  fetch: OutboundFetch;
  url: string;
  messageId: string;
  payload: Record<string, unknown>;
  secrets: string[];
  now: Date;
  /** The attempt's deadline (aborts the request when it fires). */
  signal: AbortSignal;
}): Promise<SendResult> {
  const body = JSON.stringify(opts.payload);
  const headers = signedHeaders(opts.secrets, webhookId(opts.messageId), Math.floor(opts.now.getTime() / 1000), body);
  try {
    const res = await opts.fetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Calbridge-Webhooks/1', ...headers },
      body,
      redirect: 'manual',
      signal: opts.signal,
    });
    return await fromResponse(res, opts.now);
  } catch (err) {
    return fromThrown(err);
  }
}
