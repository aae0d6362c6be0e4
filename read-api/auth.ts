import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { Actor, Role } from '../schemas/common.ts';
import { ExpiringMap } from './expiring-map.ts';

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

// Tokens verified a moment ago, so a client's next request (a turn is a mutation and a
// subscription) skips the HMAC: jose verifies through WebCrypto, whose per-call overhead was ~9 %
// of the API's CPU at 64 users (bench/results/pipeline.md). A token is immutable: its verified
// claims hold until it expires. Keyed by secret and token, so a token signed under another secret
// is never taken from here. Bounded; only successes are kept.
const VERIFIED_TTL_MS = 5 * 60_000;
const verified = new ExpiringMap<Actor>(5000);

// `Authorization: Bearer <JWT>` (HS256) → the actor; no header → anonymous; a bad token → error.
export async function authenticate(secret: string, header: string | null | undefined): Promise<AuthResult> {
  if (!header) return { actor: null, error: null };
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return { actor: null, error: 'Authorization header must be "Bearer <token>"' };
  const key = `${secret}\u0000${match[1]!}`;
  const known = verified.get(key);
  if (known) return { actor: known };
  try {
    const { payload } = await jwtVerify(match[1]!, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
    const claims = Claims.safeParse(payload);
    if (!claims.success) return { actor: null, error: 'token lacks sub/tenant/roles claims' };
    const actor = Actor.safeParse({ userId: claims.data.sub, tenantId: claims.data.tenant, roles: claims.data.roles });
    if (!actor.success) return { actor: null, error: 'token claims are malformed' };
    verified.set(key, actor.data, Math.min(Date.now() + VERIFIED_TTL_MS, payload.exp === undefined ? Infinity : payload.exp * 1000));
    return { actor: actor.data };
  } catch (error) {
    return { actor: null, error: `invalid token: ${(error as Error).message}` };
  }
}
