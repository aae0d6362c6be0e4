import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { forgetFact } from '../../commands/memory.ts';
import type { KeyStore } from '../../eventstore/crypto/key-store.ts';
import { DOCUMENTS, removeDocument } from '../../knowledge/index.ts';
import { RETENTION_ACTOR, type RetentionPolicy } from './retention.ts';

// Retention of long-term knowledge, with the tenant's period for conversations (one policy for all
// personal data): a memory saved, or a document added, longer ago than the period is forgotten /
// removed through the same commands a user would use (MemoryForgotten with reason 'retention',
// DocumentRemoved by the retention actor), and its own key is destroyed (scope memory-<id> /
// document-<id>), so the log's copy reads "[erased]". Chunks go with their document (the indexer
// deletes them on DocumentRemoved). A conversation's summaries are sealed with the conversation's
// key and go with it (retention.ts).
//
// Memories have no read model: the due ones are found in the PostgreSQL event log (parley_events,
// clear fields memoryId/tenantId/userId); with EventStoreDB as the store they are not found (stated in README).

export type KnowledgeRetained = { memories: string[]; documents: string[] };

export async function runKnowledgeRetention(knex: Knex, commands: CommandHandler, keys: KeyStore | null, policy: RetentionPolicy): Promise<KnowledgeRetained> {
  const out: KnowledgeRetained = { memories: [], documents: [] };
  const hasLog = (await knex.raw(`select to_regclass('parley_events') is not null as present`)).rows[0].present as boolean;
  const tenants = new Set<string>((await knex(DOCUMENTS).distinct('tenant_id')).map((r) => r.tenant_id as string));
  if (hasLog) {
    const { rows } = await knex.raw(`select distinct data->>'tenantId' as t from parley_events where type = 'MemorySaved'`);
    for (const r of rows as { t: string }[]) tenants.add(r.t);
  }
  for (const tenant of tenants) {
    const days = policy.tenantDays[tenant] ?? policy.defaultDays;
    if (days === null || days === undefined) continue;
    const docs = await knex(DOCUMENTS).where({ tenant_id: tenant }).where('added_at', '<', knex.raw(`now() - ? * interval '1 day'`, [days])).orderBy('id').select('id');
    for (const d of docs) {
      const result = await removeDocument(commands, keys, RETENTION_ACTOR, d.id, `retention:${d.id}:${randomUUID()}`);
      if (result.ok) out.documents.push(d.id);
    }
    if (!hasLog) continue;
    const { rows } = await knex.raw(
      `select s.data->>'memoryId' as memory_id, s.data->>'userId' as user_id from parley_events s
        where s.type = 'MemorySaved' and s.data->>'tenantId' = ? and s.recorded_at < now() - ? * interval '1 day'
          and not exists (select 1 from parley_events f where f.stream_id = s.stream_id and f.type = 'MemoryForgotten' and f.data->>'memoryId' = s.data->>'memoryId')
        order by s.position`,
      [tenant, days],
    );
    for (const m of rows as { memory_id: string; user_id: string }[]) {
      const result = await forgetFact(commands, RETENTION_ACTOR, m.memory_id, `retention:${m.memory_id}:${randomUUID()}`, { keys, owner: { tenantId: tenant, userId: m.user_id }, reason: 'retention' });
      if (result.ok) out.memories.push(m.memory_id);
    }
  }
  return out;
}
