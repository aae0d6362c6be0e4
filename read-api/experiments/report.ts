import type { Knex } from 'knex';
import type { Experiment } from '../../schemas/models.ts';
import { twoProportionZTest, type ZTest } from './z-test.ts';

// An experiment's report per arm, from the experiments read model (projections/experiments-projection.ts):
// turns (first answers), the share of turns regenerated at least once, the thumbs-up rate among
// rated answers, TTFT p50/p95 over completed answers, tokens, and each arm's z-test on thumbs-up
// against the control (the first arm in the configuration).

export type ArmReport = {
  arm: string;
  model: string;
  weight: number;
  turns: number;
  regenerations: number;
  regenerateRate: number | null;
  rated: number;
  thumbsUp: number;
  thumbsUpRate: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
  promptTokens: number;
  completionTokens: number;
  fallbacks: number;
  /** against the control arm; null for the control itself or when either has no rated answers */
  thumbsUpTest: ZTest | null;
};

export type ExperimentReport = { name: string; control: string; arms: ArmReport[] };

type Row = {
  arm: string; turns: number; regenerated_turns: number; regenerations: number; rated: number; ups: number;
  p50: number | null; p95: number | null; prompt: number; completion: number; fallbacks: number;
};

/** `tenantId`: only that tenant's traffic (a tenant admin); null: all of it (platform operator) */
export async function experimentReport(knex: Knex, experiment: Experiment, tenantId: string | null): Promise<ExperimentReport> {
  const { rows } = await knex.raw(
    `select g.arm,
            count(*) filter (where g.sibling_of is null)::int as turns,
            count(*) filter (where g.sibling_of is not null)::int as regenerations,
            count(distinct g.sibling_of)::int as regenerated_turns,
            count(g.rating)::int as rated,
            count(*) filter (where g.rating = 'up')::int as ups,
            percentile_cont(0.5) within group (order by g.ttft_ms) as p50,
            percentile_cont(0.95) within group (order by g.ttft_ms) as p95,
            coalesce(sum(g.prompt_tokens), 0)::bigint as prompt,
            coalesce(sum(g.completion_tokens), 0)::bigint as completion,
            count(g.fallback_from)::int as fallbacks
       from experiment_generations g
      where g.experiment = ? ${tenantId === null ? '' : 'and g.tenant_id = ?'}
      group by g.arm`,
    [experiment.name, ...(tenantId === null ? [] : [tenantId])],
  );
  const byArm = new Map((rows as Row[]).map((r) => [r.arm, r]));
  const control = experiment.arms[0]!;
  const c = byArm.get(control.name);
  const arms = experiment.arms.map((a): ArmReport => {
    const r = byArm.get(a.name);
    const turns = r?.turns ?? 0;
    const rated = r?.rated ?? 0;
    const ups = r?.ups ?? 0;
    return {
      arm: a.name, model: a.model, weight: a.weight, turns,
      regenerations: r?.regenerations ?? 0,
      regenerateRate: turns ? (r?.regenerated_turns ?? 0) / turns : null,
      rated, thumbsUp: ups, thumbsUpRate: rated ? ups / rated : null,
      ttftP50Ms: r?.p50 ?? null, ttftP95Ms: r?.p95 ?? null,
      promptTokens: Number(r?.prompt ?? 0), completionTokens: Number(r?.completion ?? 0),
      fallbacks: r?.fallbacks ?? 0,
      thumbsUpTest: a === control ? null : twoProportionZTest(c?.ups ?? 0, c?.rated ?? 0, ups, rated),
    };
  });
  return { name: experiment.name, control: control.name, arms };
}
