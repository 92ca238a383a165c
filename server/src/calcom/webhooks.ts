import { z } from 'zod';
import { success } from './envelope.js';
import type { CalcomAuth, CalcomHttp, CalcomOperation } from './http.js';

/**
 * `UserWebhookOutputDto` (the document gives `/v2/webhooks` no `cal-api-version`). The document says
 * `id` is a number; Cal.com's webhook ids are UUID strings (`model Webhook { id String @id }` in
 * packages/prisma/schema.prisma, created with uuidv4()), so we read a string (and accept a number,
 * kept as its decimal string, should an older deployment send one).
 */
const WebhookOutput = z.looseObject({
  id: z.union([z.string().min(1).max(64), z.number().int()]).transform((v) => String(v)),
  subscriberUrl: z.string(),
  triggers: z.array(z.string()),
  active: z.boolean(),
});
type WebhookOutput = z.infer<typeof WebhookOutput>;

export const webhookOperations = {
  list: { method: 'GET', path: '/v2/webhooks', response: success(z.array(WebhookOutput)), retry: 'idempotent' },
  create: { method: 'POST', path: '/v2/webhooks', response: success(WebhookOutput), retry: 'not-idempotent' },
  update: { method: 'PATCH', path: '/v2/webhooks/{webhookId}', response: success(WebhookOutput), retry: 'idempotent' },
  remove: { method: 'DELETE', path: '/v2/webhooks/{webhookId}', response: success(WebhookOutput), retry: 'idempotent' },
} as const satisfies Record<string, CalcomOperation>;

/** `CreateWebhookInputDto` without a payload template: Cal.com then sends its default body. */
export interface WebhookInput {
  subscriberUrl: string;
  triggers: string[];
  active: boolean;
  secret: string;
}

export function webhooksApi(http: CalcomHttp) {
  return {
    list: async (auth: CalcomAuth) => (await http.request(webhookOperations.list, { auth, query: { take: 250 } })).data,
    create: async (auth: CalcomAuth, input: WebhookInput) => (await http.request(webhookOperations.create, { auth, body: input })).data,
    update: async (auth: CalcomAuth, id: string, input: Partial<WebhookInput>) =>
      (await http.request(webhookOperations.update, { auth, params: { webhookId: id }, body: input })).data,
    remove: async (auth: CalcomAuth, id: string) => (await http.request(webhookOperations.remove, { auth, params: { webhookId: id } })).data,
  };
}
