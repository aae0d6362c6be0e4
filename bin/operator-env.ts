import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { CommandHandler } from '../commands/command-handler.ts';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { keyStoreMigrations } from '../eventstore/crypto/key-store.ts';
import { openEventStore, type ConfiguredEventStore } from '../eventstore/esdb/select.ts';
import { createKnex } from '../eventstore/postgres/connect.ts';
import { eventStoreMigrations, runMigrations } from '../eventstore/postgres/migrations.ts';
import { setupProjections } from '../projections/index.ts';
import { Actor } from '../schemas/common.ts';
import { openSharedDatabase } from './app.ts';
import { loadConfig, masterKey } from './config.ts';

export type OperatorEnv = { knex: Knex; store: ConfiguredEventStore; keys: KeyStore | null; commands: CommandHandler; newId: () => string };

// What an operator's CLI command works with: the deployment's database (embedded beside `npm start`,
// or DATABASE_URL), its event store with the data keys, and a command handler. Closed afterwards.
export async function withOperatorEnv<T>(work: (env: OperatorEnv) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = await openSharedDatabase(config);
  const knex = createKnex(db.connectionString);
  const store = await openEventStore({ esdbUrl: config.ESDB_URL, connectionString: db.connectionString, masterKey: masterKey(config) });
  try {
    await runMigrations(knex, eventStoreMigrations, keyStoreMigrations);
    await setupProjections(knex);
    const keys = 'keys' in store ? (store.keys as KeyStore | null) : null;
    return await work({ knex, store, keys, commands: new CommandHandler({ store }), newId: randomUUID });
  } finally {
    await store.close();
    await knex.destroy();
    await db.stop();
  }
}

// The actor an operator's command is recorded under: an admin of the tenant it acts in, named by
// --operator, so the audit log says who ran it.
export function operatorActor(operator: string, tenantId: string, roles: Actor['roles'] = ['admin']): Actor {
  const actor = Actor.safeParse({ userId: operator, tenantId, roles });
  if (!actor.success) throw new Error(`invalid --operator or --tenant: ${actor.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return actor.data;
}
