import type { Command } from 'commander';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { openEventStore } from '../../eventstore/esdb/select.ts';
import { eventStoreMigrations, runMigrations } from '../../eventstore/postgres/migrations.ts';
import { keyStoreMigrations } from '../../eventstore/crypto/key-store.ts';
import { projectionByName, projections, rebuildProjection, setupProjections } from '../../projections/index.ts';
import { openSharedDatabase } from '../app.ts';
import { loadConfig, masterKey } from '../config.ts';
import { progressBar } from '../progress.ts';

export function registerProject(program: Command) {
  const project = program.command('project').description('manage projections (read models)');
  project
    .command('rebuild [name]')
    .description(`replay the log into fresh tables and swap them in (${projections.map((p) => p.name).join(', ')})`)
    .option('--all', 'rebuild every projection')
    .action(async (name: string | undefined, opts: { all?: boolean }) => {
      const targets = opts.all ? projections : name ? [projectionByName(name)] : [];
      if (targets.length === 0) throw new Error(`name a projection (${projections.map((p) => p.name).join(', ')}) or pass --all`);
      if (targets.some((t) => !t)) throw new Error(`unknown projection "${name}" (known: ${projections.map((p) => p.name).join(', ')})`);
      const config = loadConfig();
      const db = await openSharedDatabase(config);
      const knex = createKnex(db.connectionString);
      const store = await openEventStore({ esdbUrl: config.ESDB_URL, connectionString: db.connectionString, masterKey: masterKey(config) });
      try {
        await runMigrations(knex, eventStoreMigrations, keyStoreMigrations);
        await setupProjections(knex);
        for (const p of targets) {
          const bar = progressBar(`rebuild ${p!.name}`);
          const result = await rebuildProjection(knex, store, p!, (pr) => bar.update(pr.applied, pr.total));
          bar.stop();
          console.log(`rebuilt ${p!.name}: ${result.applied} events, at position ${result.position}`);
        }
      } finally {
        await store.close();
        await knex.destroy();
        await db.stop();
      }
    });
}
