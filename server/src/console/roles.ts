/**
 * Role names in the identity provider's roles claim (CALBRIDGE_OIDC_ROLES_CLAIM):
 *   calbridge:admin                    every tenant, and the tenant directory
 *   calbridge:tenant:<slug>:manager    one tenant, every action on it
 *   calbridge:tenant:<slug>:viewer     one tenant, read-only, no personal data
 * Anything else in the claim is ignored.
 */

const TENANT_ROLE = /^calbridge:tenant:([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):(manager|viewer)$/;
const ADMIN_ROLE = 'calbridge:admin';

export interface ConsoleAccess {
  admin: boolean;
  /** Slugs the person manages. */
  managed: string[];
  /** Slugs the person may only view (and does not also manage). */
  viewed: string[];
}

/** The Calbridge role names in a claim value (an array of strings, or one space- or comma-separated string). */
export function rolesFromClaim(value: unknown): string[] {
  const raw = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const roles = raw.filter((r): r is string => typeof r === 'string').filter((r) => r === ADMIN_ROLE || TENANT_ROLE.test(r));
  return [...new Set(roles)].sort();
}

/** Reads a claim by name; a dotted name (`realm_access.roles`) reaches into nested objects, as Keycloak nests them. */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let v: unknown = claims;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function accessOf(roles: readonly string[]): ConsoleAccess {
  const managed = new Set<string>();
  const viewed = new Set<string>();
  for (const r of roles) {
    const m = TENANT_ROLE.exec(r);
    if (m) (m[2] === 'manager' ? managed : viewed).add(m[1]!);
  }
  for (const s of managed) viewed.delete(s);
  return { admin: roles.includes(ADMIN_ROLE), managed: [...managed].sort(), viewed: [...viewed].sort() };
}

export function hasAnyRole(a: ConsoleAccess): boolean {
  return a.admin || a.managed.length > 0 || a.viewed.length > 0;
}
