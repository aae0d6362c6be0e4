import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded.ts';
import { installQueryCounter } from './query-counter.ts';

// bigint counts and sums come back as JS numbers: our counters stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
// Dates stay 'YYYY-MM-DD' strings: a JS Date would shift them by the local time zone.
pg.types.setTypeParser(1082, (v) => v);
// Every round trip to PostgreSQL is counted by operation (parley_db_queries_total on /metrics).
installQueryCounter();

export type Database = { connectionString: string; embedded: boolean; stop: () => Promise<void> };

// DATABASE_URL when given; otherwise an embedded PostgreSQL under `dataDir` (the zero-install default).
export async function openDatabase(options: { databaseUrl?: string; dataDir: string; log?: (line: string) => void }): Promise<Database> {
  if (options.databaseUrl) return { connectionString: options.databaseUrl, embedded: false, stop: async () => {} };
  const db = await startEmbeddedPostgres(options.dataDir, options.log);
  return { connectionString: db.connectionString, embedded: true, stop: db.stop };
}

// Event readers only read below the oldest running transaction of the whole server, so a client
// that hangs inside a transaction would stall every subscriber: PostgreSQL ends such sessions.
export const SESSION_OPTIONS = '-c idle_in_transaction_session_timeout=30000';

export function createKnex(connectionString: string, poolMax = 10): Knex {
  return knexFactory({ client: 'pg', connection: { connectionString, options: SESSION_OPTIONS }, pool: { min: 0, max: poolMax } });
}
