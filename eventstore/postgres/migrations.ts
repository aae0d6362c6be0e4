import type { Knex } from 'knex';
import { APPEND_MANY_FUNCTION, STREAM_LOCK_CLASS } from './append-many-function.ts';

// Knex migrations kept in code, so the package needs no migrations folder at run time.
export type Migration = { up: (knex: Knex) => Promise<void>; down: (knex: Knex) => Promise<void> };
export type MigrationSet = { name: string; migrations: Record<string, Migration> };

export const eventStoreMigrations: MigrationSet = { name: 'eventstore', migrations: {
  '001_event_store': {
    async up(knex) {
      await knex.raw(`
        create table parley_streams (
          stream_id text primary key,
          revision bigint not null
        );
        create table parley_events (
          position bigserial primary key,
          -- The writing transaction: readers only read below the oldest running xid, so an event
          -- that commits late can never appear behind a cursor that already moved past it.
          transaction_id xid8 not null default pg_current_xact_id(),
          stream_id text not null,
          stream_revision bigint not null,
          event_id uuid not null unique,
          type text not null,
          version int not null,
          data jsonb not null,
          metadata jsonb not null,
          recorded_at timestamptz not null default now(),
          unique (stream_id, stream_revision)
        );
        create index parley_events_global on parley_events (transaction_id, position);
        create index parley_events_type on parley_events (type, transaction_id, position);
      `);
      await knex.raw(APPEND_FUNCTION);
    },
    async down(knex) {
      await knex.raw('drop function if exists parley_append; drop table parley_events; drop table parley_streams;');
    },
  },
  // Many streams in one round trip, all or nothing (EventStore.appendMany).
  '002_append_many': {
    async up(knex) {
      await knex.raw(APPEND_MANY_FUNCTION);
    },
    async down(knex) {
      await knex.raw('drop function if exists parley_append_many');
    },
  },
  // Both append functions take their streams' locks first (STREAM_LOCK_NOTE); a fresh database
  // already has these versions from 001/002, an older one gets them here.
  '003_stream_locks_first': {
    async up(knex) {
      await knex.raw(APPEND_FUNCTION);
      await knex.raw(APPEND_MANY_FUNCTION);
    },
    async down() {},
  },
} };

// STREAM_LOCK_NOTE. The log is read in (transaction id, position) order, so two transactions that
// write the same stream must get their ids in the order they write it, or a reader sees revision 2
// before revision 0. PostgreSQL gives an id at a transaction's first write or row lock, and a
// speculative insert (INSERT ... ON CONFLICT on a new stream) takes one and may then wait for a
// LATER id's insert (the lower id backs off). So each append first takes a transaction-level
// advisory lock per stream, which takes no id: whoever waits for a stream gets its id only after the
// holder committed. The append must be its transaction's first write (every caller here sends one
// statement), and unrelated streams whose hashes collide merely wait for each other.
// One round trip per append: idempotency check, expected-revision check, insert. No NOTIFY in here:
// it would serialise all appending commits on the notification queue lock; the store notifies
// after commit instead (PostgresEventStore.announce).
const APPEND_FUNCTION = `
create or replace function parley_append(
  p_stream text, p_expected text,
  p_ids uuid[], p_types text[], p_versions int[], p_data jsonb[], p_meta jsonb[])
returns table (o_revision bigint, o_xid xid8, o_position bigint, o_duplicate boolean, o_actual bigint)
language plpgsql as $fn$
declare
  n int := cardinality(p_ids);
  v_existing int;
  v_new bigint;
  v_pos bigint;
begin
  -- The stream's lock comes before anything gives this transaction an id (see STREAM_LOCK_NOTE).
  perform pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, hashtext(p_stream));
  select count(*) into v_existing from parley_events where event_id = any(p_ids);
  if v_existing = n then
    return query select e.stream_revision, e.transaction_id, e.position, true, null::bigint
      from parley_events e where e.event_id = p_ids[n];
    return;
  elsif v_existing > 0 then
    raise exception 'some of these events are already stored, others are not' using errcode = 'PA002';
  end if;

  if p_expected = 'any' then
    insert into parley_streams as s (stream_id, revision) values (p_stream, n - 1)
      on conflict (stream_id) do update set revision = s.revision + n
      returning revision into v_new;
  elsif p_expected = 'no_stream' then
    insert into parley_streams (stream_id, revision) values (p_stream, n - 1)
      on conflict do nothing returning revision into v_new;
  elsif p_expected = 'stream_exists' then
    update parley_streams set revision = revision + n where stream_id = p_stream returning revision into v_new;
  else
    update parley_streams set revision = revision + n
      where stream_id = p_stream and revision = p_expected::bigint returning revision into v_new;
  end if;

  if v_new is null then
    return query select null::bigint, null::xid8, null::bigint, false,
      (select revision from parley_streams where stream_id = p_stream);
    return;
  end if;

  with inserted as (
    insert into parley_events (stream_id, stream_revision, event_id, type, version, data, metadata)
    select p_stream, v_new - n + t.ord, t.id, t.ty, t.ve, t.da, t.me
      from unnest(p_ids, p_types, p_versions, p_data, p_meta) with ordinality as t(id, ty, ve, da, me, ord)
    returning position
  ) select max(position) into v_pos from inserted;

  return query select v_new, pg_current_xact_id(), v_pos, false, null::bigint;
end
$fn$;
`;

// Each folder owns a migration set with its own history table, so sets evolve independently.
export async function runMigrations(knex: Knex, ...sets: MigrationSet[]): Promise<void> {
  for (const set of sets) {
    const names = Object.keys(set.migrations).sort();
    await knex.migrate.latest({
      tableName: `knex_migrations_${set.name}`,
      migrationSource: {
        getMigrations: async () => names,
        getMigrationName: (name: string) => name,
        getMigration: async (name: string) => set.migrations[name]!,
      },
    });
  }
}
