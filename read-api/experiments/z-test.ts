// The two-proportion z-test (pooled), as A/B tools report it for a conversion rate: here the share
// of rated answers that got a thumbs up, of an arm against the control (the experiment's first arm).

export type ZTest = { z: number; pValue: number };

/** x successes of n in each group; null when either group is empty or the pooled rate is 0 or 1 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): ZTest | null {
  if (n1 === 0 || n2 === 0) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return null;
  const z = (x2 / n2 - x1 / n1) / se;
  return { z, pValue: 2 * (1 - normalCdf(Math.abs(z))) };
}

// Φ(x) from erf, Abramowitz–Stegun 7.1.26 (absolute error < 1.5e-7: plenty for a p-value).
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
