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

  async apply(trx, events, n) {
    for (const e of events) {
      if (e.type === 'GenerationRequested') {
        await trx(n.usage_generations)
          .insert({ generation_id: e.data.generationId, user_id: e.data.ownerId, tenant_id: e.data.tenantId, prompt_tokens: e.data.context.promptTokens })
          .onConflict('generation_id').ignore();
        continue;
      }
      if (e.type !== 'GenerationCompleted' && e.type !== 'GenerationCancelled') continue;
      const usage = e.data.usage;
      if (!usage) continue;
      const gen = await trx(n.usage_generations).where({ generation_id: e.data.generationId }).first();
      if (!gen) continue;
      await trx.raw(
        `insert into ${n.usage_daily} (user_id, tenant_id, day, requests, prompt_tokens, completion_tokens)
         values (?, ?, (?::timestamptz at time zone 'UTC')::date, 1, ?, ?)
         on conflict (user_id, tenant_id, day) do update set requests = ${n.usage_daily}.requests + 1,
           prompt_tokens = ${n.usage_daily}.prompt_tokens + excluded.prompt_tokens,
           completion_tokens = ${n.usage_daily}.completion_tokens + excluded.completion_tokens`,
        [gen.user_id, gen.tenant_id, e.metadata.occurredAt, usage.promptTokens, usage.completionTokens],
      );
    }
  },
};
