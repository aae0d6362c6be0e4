// The shape every chaos scenario reports in, so run.ts can write one JSON, one Markdown and the plots.
export type Check = { name: string; value: number | string | boolean; expected: string; ok: boolean };

export type Series = { title: string; xLabel: string; yLabel: string; lines: { name: string; points: [number, number][] }[]; markers?: { x: number; label: string }[] };

export type ScenarioResult = {
  name: string;
  title: string;
  setup: string;
  passed: boolean;
  checks: Check[];
  figures: Record<string, unknown>;
  /** one row per repetition (kill round, window), for the report's table */
  rounds?: Record<string, unknown>[];
  series?: Series;
  notes: string[];
  seconds: number;
  /** when and at which commit this scenario ran (a report may merge runs of --only) */
  ranAt?: string;
  commit?: string;
};

export type RunOptions = { quick: boolean };

export type Scenario = { name: string; title: string; run: (o: RunOptions) => Promise<Omit<ScenarioResult, 'name' | 'title' | 'passed' | 'seconds'>> };

export const check = (name: string, value: number | string | boolean, expected: string, ok: boolean): Check => ({ name, value, expected, ok });
export const zero = (name: string, value: number): Check => check(name, value, '0', value === 0);

export function quantile(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

export function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/** The distinct error messages of failed sends, for the report (what a client was told). */
export function failureNotes(sent: { generationId: string | null; code: string | null; message?: string }[]): string[] {
  const failed = sent.filter((s) => !s.generationId);
  if (!failed.length) return [];
  const by = countBy(failed, (s) => `${s.code}: ${s.message ?? ''}`);
  return [`failed sends: ${Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => `${n}× ${k}`).join(' | ')}`];
}
