import type { Knex } from 'knex';
import { START, type Position } from '../port.ts';

export const CHECKPOINTS = 'parley_checkpoints';

export async function ensureCheckpointTable(knex: Knex): Promise<void> {
  await knex.raw(`create table if not exists ${CHECKPOINTS} (
    name text primary key,
    position text not null,
    events_applied bigint not null default 0,
    updated_at timestamptz not null default now()
  )`);
}

// Locks the projection's checkpoint row for the transaction: a second projector process blocks
// here, then sees the advanced checkpoint, so no batch is ever applied twice. One statement: the
// no-op ON CONFLICT update takes the row lock as SELECT … FOR UPDATE would, creates the row on
// first use, and returns the latest committed position after any wait.
export async function lockCheckpoint(trx: Knex.Transaction, name: string): Promise<Position> {
  const { rows } = await trx.raw(
    `insert into ${CHECKPOINTS} (name, position) values (?, ?) on conflict (name) do update set name = excluded.name returning position`,
    [name, START],
  );
  return rows[0].position as Position;
}

export async function saveCheckpoint(trx: Knex.Transaction, name: string, position: Position, applied: number): Promise<void> {
  await trx(CHECKPOINTS)
    .where({ name })
    .update({ position, events_applied: trx.raw('events_applied + ?', [applied]), updated_at: trx.fn.now() });
}

export async function readCheckpoint(knex: Knex, name: string): Promise<Position> {
  const row = await knex(CHECKPOINTS).where({ name }).first('position');
  return (row?.position as Position | undefined) ?? START;
}
