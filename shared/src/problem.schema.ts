import { z } from 'zod';

/**
 * An RFC 9457 problem document, the body of every error answer (`application/problem+json`).
 * `code` is stable and meant for programs; `title` and `detail` are for people and may change.
 */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;
