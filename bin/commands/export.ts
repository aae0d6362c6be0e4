import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { applyContextOf } from '../../projections/projection.ts';
import { exportRlhf, rlhfExportPosition, type RlhfFormat } from '../../projections/rlhf-export.ts';
import { withOperatorEnv } from '../operator-env.ts';
import { openOutputFile } from '../output-file.ts';
import { progressBar } from '../progress.ts';
import { registerExportUser } from './export-user.ts';

const FORMATS: RlhfFormat[] = ['trl', 'openai', 'kto'];

export function registerExport(program: Command) {
  const exp = program.command('export').description('export datasets');
  registerExportUser(exp);
  exp
    .command('rlhf')
    .description('preference pairs (trl, openai) or unpaired rated samples (kto) as JSONL, with a manifest')
    .option('--format <format>', FORMATS.join('|'), 'trl')
    .requiredOption('--out <file>', 'output JSONL file')
    .action(async (opts: { format: string; out: string }) => {
      if (!FORMATS.includes(opts.format as RlhfFormat)) throw new Error(`--format must be one of ${FORMATS.join(', ')}`);
      // The store's data keys open the sealed text of the read model (sealed-text.ts).
      await withOperatorEnv(async ({ knex, store }) => {
        const position = await rlhfExportPosition(knex);
        const total = Number((await knex('rlhf_generations').whereNotNull('rating').count({ n: '*' }))[0]!.n);
        const out = await openOutputFile(opts.out);
        const bar = progressBar(`export rlhf ${opts.format}`);
        let records = 0;
        for await (const record of exportRlhf(knex, opts.format as RlhfFormat, applyContextOf(store).cipher)) {
          if (!out.write(JSON.stringify(record) + "\n")) await new Promise<void>((r) => out.once("drain", () => r()));
          bar.update(++records, Math.max(total, records));
        }
        await new Promise<void>((r) => out.end(() => r()));
        bar.stop();
        const manifest = { format: opts.format, records, position, projection: 'rlhf', createdAt: new Date().toISOString() };
        await writeFile(`${opts.out}.manifest.json`, JSON.stringify(manifest, null, 2) + '\n');
        console.log(`wrote ${records} records to ${opts.out} (log position ${position}); manifest ${opts.out}.manifest.json`);
      });
    });
}
