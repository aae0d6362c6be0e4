import type { Knex } from 'knex';
import pg from 'pg';
import { START, type Position } from '../../eventstore/port.ts';
import type { MigrationSet } from '../../eventstore/postgres/migrations.ts';

// Where a relay is in the log: the position of the last event the broker acknowledged.
export interface RelayCheckpoints {
  load(name: string): Promise<Position>;
  save(name: string, position: Position, relayed: number): Promise<void>;
}

export const RELAY_CHECKPOINTS = 'parley_relay_checkpoints';

// The relay's own table (not the projections' checkpoints): relays and projections move independently.
export const relayMigrations: MigrationSet = { name: 'relay', migrations: {
  '001_relay_checkpoints': {
    async up(knex) {
      await knex.raw(`create table ${RELAY_CHECKPOINTS} (
        name text primary key,
        position text not null,
        events_relayed bigint not null default 0,
        updated_at timestamptz not null default now()
      )`);
    },
    async down(knex) {
      await knex.raw(`drop table ${RELAY_CHECKPOINTS}`);
    },
  },
} };

export class PgRelayCheckpoints implements RelayCheckpoints {
  constructor(private readonly knex: Knex) {}

  async load(name: string): Promise<Position> {
    const row = await this.knex(RELAY_CHECKPOINTS).where({ name }).first('position');
    return (row?.position as Position | undefined) ?? START;
  }

  // Sets the starting point of a relay that has none yet (e.g. `--from`); an existing checkpoint wins.
  async init(name: string, position: Position): Promise<void> {
    await this.knex.raw(`insert into ${RELAY_CHECKPOINTS} (name, position) values (?, ?) on conflict do nothing`, [name, position]);
  }

  async save(name: string, position: Position, relayed: number): Promise<void> {
    await this.knex.raw(
      `insert into ${RELAY_CHECKPOINTS} (name, position, events_relayed) values (?, ?, ?)
        on conflict (name) do update set position = excluded.position,
          events_relayed = ${RELAY_CHECKPOINTS}.events_relayed + excluded.events_relayed, updated_at = now()`,
      [name, position, relayed],
    );
  }
}

// One active relay per name: a session advisory lock on its own connection. A second process
// waits as a standby and takes over when the first one dies (its connection, and lock, go with it).
export class RelayLease {
  private client: pg.Client | null = null;

  constructor(private readonly connectionString: string, private readonly name: string) {}

  async acquire(signal: AbortSignal, onWaiting: () => void = () => {}, pollMs = 2000): Promise<boolean> {
    let told = false;
    while (!signal.aborted) {
      const client = new pg.Client({ connectionString: this.connectionString });
      client.on('error', () => undefined);
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>(`select pg_try_advisory_lock(hashtext($1)) as ok`, [`parley-relay:${this.name}`]);
      if (rows[0]!.ok) {
        this.client = client;
        return true;
      }
      await client.end().catch(() => undefined);
      if (!told) {
        onWaiting();
        told = true;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
    return false;
  }

  // Called if the lock's connection breaks: another relay may take over, so this one must stop.
  onLost(callback: (error: Error) => void): void {
    const client = this.client;
    if (!client) return;
    client.on('error', (error) => callback(error));
    client.on('end', () => { if (this.client === client) callback(new Error('relay lease connection closed')); });
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
