import { z } from 'zod';

/** Cal.com's success envelope, `{ status: "success", data }`; other members are kept. */
export function success<S extends z.ZodType>(data: S) {
  return z.looseObject({ status: z.literal('success'), data });
}
