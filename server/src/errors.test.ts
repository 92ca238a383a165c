import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';

// Every error class names its problem code statically (`X.code`; a class that carries a family of
// codes lists them as `X.codes`), so callers and tests compare with the class, and its title is
// one per class: the rule the errors modules follow, checked over every one of them.

const root = new URL('.', import.meta.url).pathname;

/** server/src/errors.ts and every capability's `*.errors.ts`. */
function errorModules(): string[] {
  const capabilities = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory());
  return [
    join(root, 'errors.ts'),
    ...capabilities.flatMap((d) => readdirSync(join(root, d.name)).filter((f) => f.endsWith('.errors.ts')).map((f) => join(root, d.name, f))),
  ];
}

describe('error classes', () => {
  it('when every errors module is read, then each error class names its code statically and the codes are unique', async () => {
    const seen = new Map<string, string>();
    const modules = errorModules();
    expect(modules.length).toBeGreaterThan(10);
    for (const path of modules) {
      const mod = (await import(path)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value !== 'function' || !(value.prototype instanceof AppError)) continue;
        const cls = value as unknown as { code?: unknown; codes?: unknown };
        // Intermediate bases (CalcomError) carry no code of their own and are never thrown.
        if (cls.code === undefined && cls.codes === undefined && Object.values(mod).some((v) => typeof v === 'function' && v.prototype instanceof (value as typeof AppError))) continue;
        const codes = typeof cls.code === 'string' ? [cls.code] : (cls.codes as string[] | undefined);
        expect({ name, codes }).toEqual({ name, codes: expect.arrayContaining([expect.stringMatching(/^[a-z][a-z0-9_]*$/)]) });
        for (const code of codes!) {
          expect({ code, owner: seen.get(code) ?? name }).toEqual({ code, owner: name });
          seen.set(code, name);
        }
      }
    }
    expect(seen.size).toBeGreaterThan(60);
  });

  it('when an error is answered, then its title is its class’s, whatever the instance says (detail)', () => {
    class Example extends AppError {
      static readonly code = 'example';
      static override readonly title = 'Example failed';
      constructor(message: string) {
        super(Example.code, 409, message);
      }
    }
    expect([new Example('one reason').title, new Example('another').title]).toEqual(['Example failed', 'Example failed']);
    // A class that names no title answers with its status phrase, the same for every instance too.
    expect(new AppError('untitled', 404, 'whatever').title).toBe('Not Found');
  });
});
