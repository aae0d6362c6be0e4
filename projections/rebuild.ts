import type { Knex } from 'knex';
import { START, type EventStore, type Position } from '../eventstore/port.ts';
import { lockCheckpoint, saveCheckpoint } from '../eventstore/postgres/checkpoints.ts';
import { applyContextOf, type Projection, type TableNames } from './projection.ts';

export type RebuildProgress = { applied: number; total: number; position: Position };

// Replays the whole log into fresh tables, then swaps them in under the checkpoint lock, so
// readers see either the old read model or the complete new one.
export async function rebuildProjection(
  knex: Knex,
  store: EventStore,
  projection: Projection,
  onProgress: (p: RebuildProgress) => void = () => {},
  batchSize = 1000,
): Promise<RebuildProgress> {
  const fresh = Object.fromEntries(projection.tables.map((t) => [t, `${t}_rebuild`])) as TableNames<string>;
  for (const t of projection.tables) await knex.raw(`drop table if exists ${fresh[t]} cascade`);
  await projection.createTables(knex, fresh);

  const total = Number((await knex.raw('select count(*)::bigint as n from parley_events')).rows[0].n);
  let position: Position = START;
  let applied = 0;
  const context = applyContextOf(store);
  const applyBatch = async (trx: Knex.Transaction) => {
    const events = await store.readAll({ from: position, limit: batchSize });
    if (events.length === 0) return false;
    const relevant = events.filter((e) => projection.types.includes(e.type));
    if (relevant.length) await projection.apply(trx, relevant, fresh, context);
    position = events[events.length - 1]!.position;
    applied += events.length;
    onProgress({ applied, total: Math.max(total, applied), position });
    return true;
  };
  while (await knex.transaction(applyBatch));

  await knex.transaction(async (trx) => {
    await lockCheckpoint(trx, projection.name); // the live runner waits while we finish and swap
    while (await applyBatch(trx));
    for (const t of projection.tables) {
      await trx.raw(`drop table if exists ${t} cascade`);
      await trx.raw(`alter table ${fresh[t]} rename to ${t}`);
      const { rows } = await trx.raw(`select indexname from pg_indexes where tablename = ?`, [t]);
      for (const { indexname } of rows as { indexname: string }[]) {
        if (indexname.includes('_rebuild')) await trx.raw(`alter index ${indexname} rename to ${indexname.replace('_rebuild', '')}`);
      }
    }
    await trx('parley_checkpoints').where({ name: projection.name }).update({ events_applied: 0 });
    await saveCheckpoint(trx, projection.name, position, applied);
  });
  return { applied, total: Math.max(total, applied), position };
}
