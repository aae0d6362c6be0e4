import { decodeJwt } from 'jose';
import { z } from 'zod';

// Quota tiers. A caller's tier is the `tier` claim of their JWT (free when absent or unknown);
// the same tier selects the limits of the user and of the user's tenant (the plan a tenant buys).
// `priority` is the scheduling priority of the tier's generations (engine and job queue, 0–9):
// the tier(s) with the lowest priority are the first refused when the service is overloaded.

export const ScopeLimits = z.object({
  /** requests per minute (token bucket: bursts up to this many, refilled evenly over a minute) */
  rpm: z.number().int().min(1),
  /** prompt + completion tokens per minute (reserved by max_tokens at admission, settled after completion) */
  tpm: z.number().int().min(1),
  /** OpenAI-endpoint requests in flight at once */
  streams: z.number().int().min(1),
});
export type ScopeLimits = z.infer<typeof ScopeLimits>;

export const TierConfig = z.object({
  priority: z.number().int().min(0).max(9),
  user: ScopeLimits,
  tenant: ScopeLimits,
});
export type TierConfig = z.infer<typeof TierConfig>;
export type Tiers = Record<string, TierConfig>;

export const DEFAULT_TIER = 'free';

export const DEFAULT_TIERS: Tiers = {
  free: { priority: 0, user: { rpm: 60, tpm: 40_000, streams: 4 }, tenant: { rpm: 600, tpm: 400_000, streams: 40 } },
  paid: { priority: 4, user: { rpm: 300, tpm: 200_000, streams: 16 }, tenant: { rpm: 3000, tpm: 2_000_000, streams: 160 } },
  premium: { priority: 8, user: { rpm: 1200, tpm: 1_000_000, streams: 64 }, tenant: { rpm: 12_000, tpm: 10_000_000, streams: 640 } },
};

const PartialTiers = z.record(z.string().regex(/^[a-z0-9_-]{1,32}$/), z.object({
  priority: z.number().int().min(0).max(9).optional(),
  user: ScopeLimits.partial().optional(),
  tenant: ScopeLimits.partial().optional(),
}));

/** PARLEY_TIERS (JSON) merged over the defaults: `{"free":{"user":{"rpm":10}},"gold":{"priority":9,...}}`.
 *  A new tier must give every limit (it starts from nothing). */
export function parseTiers(json: string | undefined): Tiers {
  if (!json) return structuredClone(DEFAULT_TIERS);
  const partial = PartialTiers.parse(JSON.parse(json));
  const tiers = structuredClone(DEFAULT_TIERS);
  for (const [name, t] of Object.entries(partial)) {
    const base = tiers[name];
    tiers[name] = TierConfig.parse({
      priority: t.priority ?? base?.priority,
      user: { ...base?.user, ...t.user },
      tenant: { ...base?.tenant, ...t.tenant },
    });
  }
  if (!tiers[DEFAULT_TIER]) throw new Error(`PARLEY_TIERS must keep a "${DEFAULT_TIER}" tier`);
  return tiers;
}

/** The tier named by a verified token's `tier` claim; the default tier when absent or unknown. */
export function tierOfToken(authorization: string | null | undefined, tiers: Tiers): string {
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  if (!match) return DEFAULT_TIER;
  try {
    const claim = decodeJwt(match[1]!).tier;
    return typeof claim === 'string' && Object.hasOwn(tiers, claim) ? claim : DEFAULT_TIER;
  } catch {
    return DEFAULT_TIER;
  }
}

/** The tiers refused first under overload: those with the lowest priority. */
export function lowestTiers(tiers: Tiers): Set<string> {
  const min = Math.min(...Object.values(tiers).map((t) => t.priority));
  return new Set(Object.entries(tiers).filter(([, t]) => t.priority === min).map(([n]) => n));
}
