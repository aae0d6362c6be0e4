import type { Command } from 'commander';
import { projectionByName, projections, rebuildProjection } from '../../projections/index.ts';
import { withOperatorEnv } from '../operator-env.ts';
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
      await withOperatorEnv(async ({ knex, store }) => {
        for (const p of targets) {
          const bar = progressBar(`rebuild ${p!.name}`);
          const result = await rebuildProjection(knex, store, p!, (pr) => bar.update(pr.applied, pr.total));
          bar.stop();
          console.log(`rebuilt ${p!.name}: ${result.applied} events, at position ${result.position}`);
        }
      });
    });
}
