import { keyStoreMigrations } from '../../eventstore/crypto/key-store.ts';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { eventStoreMigrations, runMigrations, type MigrationSet } from '../../eventstore/postgres/migrations.ts';

// The real PostgreSQL the tests talk to (CI starts it). Each test file gets its own database.
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type TestDatabase = { url: string; name: string; drop: () => Promise<void> };

export async function createTestDatabase(...sets: MigrationSet[]): Promise<TestDatabase> {
  const name = `parley_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(ADMIN_URL, name);
  const knex = createKnex(url, 2);
  await runMigrations(knex, eventStoreMigrations, keyStoreMigrations, ...sets);
  await knex.destroy();
  return {
    url,
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
