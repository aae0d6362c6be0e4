import type { Knex } from 'knex';
import { auditProjection } from './audit-projection.ts';
import { CHECKPOINTS, ensureCheckpointTable } from '../eventstore/postgres/checkpoints.ts';
import { historyProjection } from './history-projection.ts';
import { liveNames, type Projection } from './projection.ts';
import { rlhfProjection } from './rlhf-projection.ts';
import { usageProjection } from './usage-projection.ts';
import { experimentsProjection } from './experiments-projection.ts';

export const projections: Projection[] = [historyProjection, auditProjection, rlhfProjection, usageProjection, experimentsProjection] as Projection[];

export function projectionByName(name: string): Projection | undefined {
  return projections.find((p) => p.name === name);
}

// Read models are disposable: created if missing, rebuilt from the log when their shape changes
// (a projection's `version`): the old tables are dropped (their files unlinked, e.g. plaintext
// written before text was sealed) and the runner replays the log into new ones from the start.
export async function setupProjections(knex: Knex): Promise<void> {
  await ensureCheckpointTable(knex);
  await knex.transaction(async (trx) => {
    await trx.raw(`select pg_advisory_xact_lock(hashtext('parley_projection_versions'))`); // one process at a time
    await trx.raw(`create table if not exists parley_projection_versions (name text primary key, version int not null)`);
    for (const p of projections) {
      const version = p.version ?? 1;
      const row = await trx('parley_projection_versions').where({ name: p.name }).first('version');
      if ((row?.version ?? 1) !== version) {
        for (const t of p.tables) await trx.raw(`drop table if exists ${t} cascade`);
        await trx(CHECKPOINTS).where({ name: p.name }).delete();
      }
      await p.createTables(trx, liveNames(p));
      await trx.raw(`insert into parley_projection_versions (name, version) values (?, ?) on conflict (name) do update set version = excluded.version`, [p.name, version]);
    }
  });
}

export { ProjectionRunner, projectionLag, waitForProjection } from './projection-runner.ts';
export { rebuildProjection } from './rebuild.ts';
