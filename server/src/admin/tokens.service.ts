import type { AppContext } from '../context.js';
import { randomToken, sha256 } from '../crypto/tokens.js';
import { TokenNotFound } from './tokens.errors.js';
import type { AdminPrincipal } from './admin.auth.js';
import * as repo from './tokens.repository.js';

export function createTokensService(ctx: Pick<AppContext, 'db'>) {
  const { db } = ctx;

  /** Creates a token; the plaintext is returned this once and only its hash is kept. */
  async function create(tenant: { id: string; slug: string } | null, label: string | null) {
    const token = randomToken('cbt_');
    const record = await db.withPlatform((tx) => repo.insertToken(tx, { tenantId: tenant?.id ?? null, hash: sha256(token), label }));
    return { record, token };
  }

  async function revoke(caller: AdminPrincipal, id: string): Promise<void> {
    await db.withPlatform(async (tx) => {
      const found = await repo.findById(tx, id);
      if (!found) throw new TokenNotFound();
      // A scoped token may revoke only tokens of its own tenant.
      if (caller.tenantId !== null && found.tenantId !== caller.tenantId) throw new TokenNotFound();
      await repo.revoke(tx, id);
    });
  }

  return { create, revoke };
}
