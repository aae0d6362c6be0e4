import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { Actor, Role } from '../schemas/common.ts';

const Claims = z.object({ sub: z.string().min(1), tenant: z.string().min(1), roles: z.array(Role).default(['user']) });

// `tier` is the quota tier claim (read-api/rate-limit/tiers.ts); absent means free.
export async function signToken(secret: string, actor: Actor, expiresIn = '30d', tier?: string): Promise<string> {
  return new SignJWT({ tenant: actor.tenantId, roles: actor.roles, ...(tier ? { tier } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(actor.userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

export type AuthResult = { actor: Actor } | { actor: null; error: string | null };

// `Authorization: Bearer <JWT>` (HS256) → the actor; no header → anonymous; a bad token → error.
export async function authenticate(secret: string, header: string | null | undefined): Promise<AuthResult> {
  if (!header) return { actor: null, error: null };
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return { actor: null, error: 'Authorization header must be "Bearer <token>"' };
  try {
    const { payload } = await jwtVerify(match[1]!, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
    const claims = Claims.safeParse(payload);
    if (!claims.success) return { actor: null, error: 'token lacks sub/tenant/roles claims' };
    const actor = Actor.safeParse({ userId: claims.data.sub, tenantId: claims.data.tenant, roles: claims.data.roles });
    if (!actor.success) return { actor: null, error: 'token claims are malformed' };
    return { actor: actor.data };
  } catch (error) {
    return { actor: null, error: `invalid token: ${(error as Error).message}` };
  }
}
