import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { eraseConversation } from '../../commands/erasure.ts';
import type { KeyStore } from '../../eventstore/crypto/key-store.ts';
import type { Actor } from '../../schemas/common.ts';

export type RetentionPolicy = { defaultDays: number | null; tenantDays: Record<string, number> };

// A platform process: its admin role reaches every tenant (domain/access.ts).
export const RETENTION_ACTOR: Actor = { userId: 'parley-retention', tenantId: 'system', roles: ['admin', 'platform_operator'] };

// Erases every conversation idle for longer than its tenant's retention period, the same way a
// user erasure works (its key is destroyed, ConversationErased recorded). Returns what it erased.
export async function runRetention(knex: Knex, commands: CommandHandler, keys: KeyStore | null, policy: RetentionPolicy): Promise<string[]> {
  const erased: string[] = [];
  const tenants = (await knex('history_conversations').distinct('tenant_id')).map((r) => r.tenant_id as string);
  for (const tenant of tenants) {
    const days = policy.tenantDays[tenant] ?? policy.defaultDays;
    if (days === null || days === undefined) continue;
    const due = await knex('history_conversations')
      .where({ tenant_id: tenant })
      .where('updated_at', '<', knex.raw(`now() - ? * interval '1 day'`, [days]))
      .select('id', 'owner_id');
    for (const c of due) {
      const result = await eraseConversation(commands, keys, RETENTION_ACTOR, { id: c.id, ownerId: c.owner_id, tenantId: tenant }, days, `retention:${c.id}:${randomUUID()}`);
      if (result.ok) erased.push(c.id);
    }
  }
  return erased;
}

// The scheduled job (runs in the saga role): once at start, then every interval. A tick while a run
// is still going is skipped: the first tick and the interval can fire together, and a run can last
// longer than the interval; two runs at once each erased the same due conversation (two
// ConversationErased events, each command with its own id).
export function scheduleRetention(run: () => Promise<unknown>, intervalMs: number, onError: (e: unknown) => void): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    void run().catch(onError).finally(() => { running = false; });
  };
  const first = setTimeout(tick, 5_000);
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return () => { clearTimeout(first); clearInterval(timer); };
}
