import type { z } from 'zod';
import { InvalidRequest, type FieldError } from '../errors.js';

/** Parses `value` with `schema`, or throws `invalid_request` naming each failing field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(value === undefined && where === 'body' ? undefined : value);
  if (result.success) return result.data;
  const errors: FieldError[] = result.error.issues.slice(0, 50).map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message:
      issue.code === 'unrecognized_keys'
        ? `unknown field(s): ${issue.keys.join(', ')}`
        : issue.code === 'invalid_type' && issue.input === undefined
          ? 'required'
          : issue.message,
  }));
  throw new InvalidRequest(errors, `The request ${where} is not valid: ${errors.map((e) => e.path).join(', ')}.`);
}
