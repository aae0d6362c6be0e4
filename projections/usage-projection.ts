import { insertIgnoring } from './batch-sql.ts';
import type { Projection } from './projection.ts';

type T = 'usage_daily' | 'usage_generations';

// Prompt and completion tokens per user, tenant and day (metering). Cancelled generations
// are metered for what they produced.
export const usageProjection: Projection<T> = {
  name: 'usage',
  tables: ['usage_daily', 'usage_generations'],
  types: ['GenerationRequested', 'GenerationCompleted', 'GenerationCancelled'],

  async createTables(knex, n) {
    await knex.raw(`
      create table if not exists ${n.usage_generations} (
        generation_id text primary key, user_id text not null, tenant_id text not null, prompt_tokens int not null
      );
      create table if not exists ${n.usage_daily} (
        user_id text not null,
        tenant_id text not null,
        day date not null,
        requests int not null default 0,
        prompt_tokens bigint not null default 0,
        completion_tokens bigint not null default 0,
        primary key (user_id, tenant_id, day)
      );
    `);
  },

  // Two statements per batch: the generations requested, then every completion and cancellation
  // metered in one upsert, summed per (user, tenant, day) in SQL.
  async apply(trx, events, n) {
    await insertIgnoring(trx, n.usage_generations, events.flatMap((e) => e.type === 'GenerationRequested'
      ? [{ generation_id: e.data.generationId, user_id: e.data.ownerId, tenant_id: e.data.tenantId, prompt_tokens: e.data.context.promptTokens }]
      : []), 'generation_id');
    const ended = events.flatMap((e) => (e.type === 'GenerationCompleted' || e.type === 'GenerationCancelled') && e.data.usage
      ? [{ generation_id: e.data.generationId, at: e.metadata.occurredAt, prompt: e.data.usage.promptTokens, completion: e.data.usage.completionTokens }]
      : []);
    if (ended.length === 0) return;
    // A generation never requested (not in usage_generations) is not metered, as before.
    await trx.raw(
      `insert into ${n.usage_daily} (user_id, tenant_id, day, requests, prompt_tokens, completion_tokens)
       select g.user_id, g.tenant_id, (x.at at time zone 'UTC')::date, count(*), sum(x.prompt), sum(x.completion)
         from jsonb_to_recordset(?::jsonb) as x(generation_id text, at timestamptz, prompt bigint, completion bigint)
         join ${n.usage_generations} g on g.generation_id = x.generation_id
        group by 1, 2, 3
       on conflict (user_id, tenant_id, day) do update set requests = ${n.usage_daily}.requests + excluded.requests,
         prompt_tokens = ${n.usage_daily}.prompt_tokens + excluded.prompt_tokens,
         completion_tokens = ${n.usage_daily}.completion_tokens + excluded.completion_tokens`,
      [JSON.stringify(ended)],
    );
  },
};
