import { describe, expect, it } from 'vitest';
import { accessOf, claimAt, hasAnyRole, rolesFromClaim } from './roles.js';

describe('console roles from the roles claim', () => {
  it('when the claim mixes Calbridge roles with others, then only the Calbridge roles are kept', () => {
    expect(rolesFromClaim(['staff', 'calbridge:admin', 'calbridge:tenant:demo:manager', 'calbridge:tenant:Bad:manager', 'calbridge:tenant:x:owner'])).toEqual([
      'calbridge:admin',
      'calbridge:tenant:demo:manager',
    ]);
  });

  it('when the claim is one space-separated string, then it is read as a list', () => {
    expect(rolesFromClaim('calbridge:tenant:a:viewer calbridge:tenant:b:manager')).toEqual(['calbridge:tenant:a:viewer', 'calbridge:tenant:b:manager']);
  });

  it('when a person both manages and views a tenant, then they manage it', () => {
    expect(accessOf(['calbridge:tenant:a:viewer', 'calbridge:tenant:a:manager', 'calbridge:tenant:b:viewer'])).toEqual({ admin: false, managed: ['a'], viewed: ['b'] });
  });

  it('when the claim has no Calbridge role, then the person has no console access', () => {
    expect(hasAnyRole(accessOf(rolesFromClaim(['staff'])))).toBe(false);
    expect(hasAnyRole(accessOf(rolesFromClaim(undefined)))).toBe(false);
  });

  it('when the roles claim is a dotted name, then it reaches a nested claim (Keycloak realm_access.roles)', () => {
    expect(claimAt({ realm_access: { roles: ['calbridge:admin'] } }, 'realm_access.roles')).toEqual(['calbridge:admin']);
    expect(claimAt({ groups: ['g'] }, 'groups')).toEqual(['g']);
  });
});
