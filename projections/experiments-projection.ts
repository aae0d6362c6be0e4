import { insertIgnoring } from './batch-sql.ts';
import type { Projection } from './projection.ts';

type T = 'experiment_generations';

// One row per generation an A/B experiment served (GenerationRequested with `experiment`): its arm,
// model, whether it regenerates another, and, as they arrive, its TTFT, tokens and the user's last
// rating. read-api/graphql/experiments.ts aggregates it per arm (experimentReport).
export const experimentsProjection: Projection<T> = {
  name: 'experiments',
  tables: ['experiment_generations'],
  types: ['GenerationRequested', 'GenerationCompleted', 'FeedbackGiven'],

  async createTables(knex, n) {
    await knex.raw(`
      create table if not exists ${n.experiment_generations} (
        generation_id text primary key,
        experiment text not null,
        arm text not null,
        model text not null,
        tenant_id text not null,
        sibling_of text,
        fallback_from text,
        ttft_ms double precision,
        prompt_tokens int,
        completion_tokens int,
        rating text
      );
      create index if not exists ${n.experiment_generations}_experiment on ${n.experiment_generations} (experiment, arm);
    `);
  },

  // Three statements at most per batch: the requests, the completions, the ratings.
  async apply(trx, events, n) {
    await insertIgnoring(trx, n.experiment_generations, events.flatMap((e) => e.type === 'GenerationRequested' && e.data.experiment
      ? [{
          generation_id: e.data.generationId, experiment: e.data.experiment.name, arm: e.data.experiment.arm, model: e.data.model,
          tenant_id: e.data.tenantId, sibling_of: e.data.siblingOf, fallback_from: e.data.fallbackFrom ?? null,
        }]
      : []), 'generation_id');
    const completed = events.flatMap((e) => e.type === 'GenerationCompleted'
      ? [{ generation_id: e.data.generationId, ttft: e.data.ttftMs, prompt: e.data.usage.promptTokens, completion: e.data.usage.completionTokens }]
      : []);
    if (completed.length > 0) {
      await trx.raw(
        `update ${n.experiment_generations} g set ttft_ms = x.ttft, prompt_tokens = x.prompt, completion_tokens = x.completion
           from jsonb_to_recordset(?::jsonb) as x(generation_id text, ttft double precision, prompt int, completion int)
          where g.generation_id = x.generation_id`,
        [JSON.stringify(completed)],
      );
    }
    // The last rating of a generation in the batch wins (a user may change their mind).
    const ratings = new Map<string, string>();
    for (const e of events) if (e.type === 'FeedbackGiven') ratings.set(e.data.generationId, e.data.rating);
    if (ratings.size > 0) {
      await trx.raw(
        `update ${n.experiment_generations} g set rating = x.rating
           from jsonb_to_recordset(?::jsonb) as x(generation_id text, rating text)
          where g.generation_id = x.generation_id`,
        [JSON.stringify([...ratings].map(([generation_id, rating]) => ({ generation_id, rating })))],
      );
    }
  },
};
