// Policy: which severities block, per category (Gemini-style thresholds), how a request's settings
// combine with a tenant's defaults and floors, what happens when a stage fails, and the version
// string every SafetyChecked event records.
import {
  BlockThreshold,
  SafetyCategory,
  type SafetySettings,
  type Severity,
} from '../schemas/safety.ts';
import { SEVERITY_RANK } from './scoring.ts';

/**
 * Bump on any change of thresholds, defaults, floors, failure modes or scoring. The rule files'
 * content hash is appended by the cascade, so a rule edit changes the version too.
 */
export const POLICY_BASE_VERSION = 'parley-safety/2026.11.2'; // .2: new categories, a floor for dangerous (CBRN at HIGH)

export function policyVersionFor(rulesHash: string): string {
  return `${POLICY_BASE_VERSION}+rules.${rulesHash}`;
}

export const ALL_CATEGORIES: readonly SafetyCategory[] = SafetyCategory.options;

export type EffectiveThresholds = Readonly<Record<SafetyCategory, BlockThreshold>>;

/** Platform defaults, used where neither the tenant nor the request says otherwise. */
export const PLATFORM_DEFAULTS: EffectiveThresholds = {
  harassment: 'BLOCK_MEDIUM_AND_ABOVE',
  hate: 'BLOCK_MEDIUM_AND_ABOVE',
  sexual: 'BLOCK_MEDIUM_AND_ABOVE',
  sexual_minors: 'BLOCK_LOW_AND_ABOVE',
  dangerous: 'BLOCK_MEDIUM_AND_ABOVE',
  self_harm: 'BLOCK_MEDIUM_AND_ABOVE',
  // Users share their own contact details all the time: flag on input, scrub on output.
  pii: 'BLOCK_NONE',
  prompt_injection: 'BLOCK_MEDIUM_AND_ABOVE',
  fraud_scams: 'BLOCK_MEDIUM_AND_ABOVE',
  // Doxxing, stalking, covert tracking of a person (personal data itself is \`pii\`).
  privacy: 'BLOCK_MEDIUM_AND_ABOVE',
  cyber: 'BLOCK_MEDIUM_AND_ABOVE',
  weapons: 'BLOCK_MEDIUM_AND_ABOVE',
  violent_extremism: 'BLOCK_MEDIUM_AND_ABOVE',
  // Asking *about* a false claim is fine; only producing disinformation at scale blocks.
  misinformation: 'BLOCK_ONLY_HIGH',
};

/**
 * Floors no tenant or request can go below. sexual_minors is always blocked; chemical, biological
 * and nuclear uplift (and the other HIGH dangerous rules) score \`dangerous\` at HIGH, so the
 * dangerous floor of BLOCK_ONLY_HIGH keeps it blocked whatever a tenant asks.
 */
export const PLATFORM_FLOORS: SafetySettings = {
  sexual_minors: 'BLOCK_LOW_AND_ABOVE',
  dangerous: 'BLOCK_ONLY_HIGH',
};

export interface TenantSafetyPolicy {
  /** The tenant's defaults; a request may override them (down to the floors). */
  readonly defaults?: SafetySettings;
  /** The tenant's floors: a request asking for a weaker threshold gets the floor. */
  readonly floors?: SafetySettings;
  /** Categories to fail closed in addition to the platform's (sexual_minors, dangerous). */
  readonly failClosed?: readonly SafetyCategory[];
}

const STRICTNESS: Readonly<Record<BlockThreshold, number>> = {
  BLOCK_NONE: 0,
  BLOCK_ONLY_HIGH: 1,
  BLOCK_MEDIUM_AND_ABOVE: 2,
  BLOCK_LOW_AND_ABOVE: 3,
};

export function stricter(a: BlockThreshold, b: BlockThreshold): BlockThreshold {
  return STRICTNESS[a] >= STRICTNESS[b] ? a : b;
}

export interface ResolvedSettings {
  readonly thresholds: EffectiveThresholds;
  /** Categories where the request (or tenant default) asked for less than a floor allows. */
  readonly raisedToFloor: readonly SafetyCategory[];
}

/**
 * Effective thresholds: platform defaults, overlaid by tenant defaults, overlaid by the request,
 * then raised to the tenant's and the platform's floors.
 */
export function resolveSettings(request?: SafetySettings, tenant?: TenantSafetyPolicy): ResolvedSettings {
  const out = {} as Record<SafetyCategory, BlockThreshold>;
  const raised: SafetyCategory[] = [];
  for (const c of ALL_CATEGORIES) {
    const asked = request?.[c] ?? tenant?.defaults?.[c] ?? PLATFORM_DEFAULTS[c];
    let t = asked;
    const tf = tenant?.floors?.[c];
    if (tf) t = stricter(t, tf);
    const pf = PLATFORM_FLOORS[c];
    if (pf) t = stricter(t, pf);
    if (t !== asked) raised.push(c);
    out[c] = t;
  }
  return { thresholds: out, raisedToFloor: raised };
}

/** The categories a request asks to set below a floor (the platform's or the tenant's): refused at
 *  the API rather than silently raised, so a caller is never misled about what applies. */
export function floorViolations(request: SafetySettings, tenant?: TenantSafetyPolicy): { category: SafetyCategory; floor: BlockThreshold }[] {
  const out: { category: SafetyCategory; floor: BlockThreshold }[] = [];
  for (const c of ALL_CATEGORIES) {
    const asked = request[c];
    if (!asked) continue;
    const floors = [PLATFORM_FLOORS[c], tenant?.floors?.[c]].filter((f): f is BlockThreshold => !!f);
    const floor = floors.reduce<BlockThreshold | null>((a, f) => (a ? stricter(a, f) : f), null);
    if (floor && stricter(asked, floor) !== asked) out.push({ category: c, floor });
  }
  return out;
}

const MIN_BLOCKING_SEVERITY: Readonly<Record<BlockThreshold, Severity | undefined>> = {
  BLOCK_NONE: undefined,
  BLOCK_ONLY_HIGH: 'HIGH',
  BLOCK_MEDIUM_AND_ABOVE: 'MEDIUM',
  BLOCK_LOW_AND_ABOVE: 'LOW',
};

/** Does a finding of this severity block under this threshold? */
export function blocks(severity: Severity, threshold: BlockThreshold): boolean {
  const min = MIN_BLOCKING_SEVERITY[threshold];
  return min !== undefined && severity !== 'NEGLIGIBLE' && SEVERITY_RANK[severity] >= SEVERITY_RANK[min];
}

export type FailureMode = 'closed' | 'open';

/** On a stage error or timeout: closed blocks the message, open lets it through marked degraded. */
export const PLATFORM_FAILURE_MODE: Readonly<Record<SafetyCategory, FailureMode>> = {
  harassment: 'open',
  hate: 'open',
  sexual: 'open',
  sexual_minors: 'closed',
  dangerous: 'closed',
  self_harm: 'open',
  pii: 'open',
  prompt_injection: 'open',
  fraud_scams: 'open',
  privacy: 'open',
  cyber: 'open',
  weapons: 'open',
  violent_extremism: 'open',
  misinformation: 'open',
};

export function failureMode(category: SafetyCategory, tenant?: TenantSafetyPolicy): FailureMode {
  if (PLATFORM_FAILURE_MODE[category] === 'closed') return 'closed';
  return tenant?.failClosed?.includes(category) ? 'closed' : 'open';
}
