import type { Actor, Role } from '../schemas/common.ts';

// Who may act on what. One place answers it for every decider, resolver and route.
//
// Invariants:
// - Identity is (tenant, user): the same user id in two tenants is two people.
// - A role acts only inside the token's own tenant: an admin of tenant A is nobody in tenant B.
// - `platform_operator` is the one cross-tenant role, and only as a modifier: a token with
//   roles [admin, platform_operator] is an admin of every tenant; [platform_operator] alone grants
//   nothing. No token carries it unless it was asked for by name (`parley token --roles ...`).

export type Owned = { ownerId: string; tenantId: string };

export const isPlatformOperator = (actor: Actor) => actor.roles.includes('platform_operator');

// The actor's roles reach this tenant.
export const reachesTenant = (actor: Actor, tenantId: string) => actor.tenantId === tenantId || isPlatformOperator(actor);

export const hasRoleIn = (actor: Actor, role: Role, tenantId: string) => actor.roles.includes(role) && reachesTenant(actor, tenantId);

export const isOwner = (actor: Actor, owned: Owned) => actor.userId === owned.ownerId && actor.tenantId === owned.tenantId;

// The owner, or an admin of the owner's tenant.
export const canActOn = (actor: Actor, owned: Owned) => isOwner(actor, owned) || hasRoleIn(actor, 'admin', owned.tenantId);

export { subjectOf } from '../schemas/common.ts';
