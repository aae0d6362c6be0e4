import { once } from 'node:events';
import type { Command } from 'commander';
import { z } from 'zod';
import { AUDIT_CSV_HEADER, auditLine } from '../../read-api/audit-format.ts';
import { auditQuery, toAuditEntry } from '../../read-api/read-models.ts';
import { IsoDateTime, IsoDay } from '../../schemas/common.ts';
import { operatorActor, withOperatorEnv } from '../operator-env.ts';
import { openOutputFile } from '../output-file.ts';
import { progressBar } from '../progress.ts';

const Options = z.object({
  format: z.enum(['jsonl', 'csv']),
  from: IsoDateTime.or(IsoDay).optional(),
  to: IsoDateTime.or(IsoDay).optional(),
  tenant: z.string().optional(),
  out: z.string().min(1),
  operator: z.string(),
});

// `parley audit export --format jsonl|csv [--from] [--to] [--tenant] --out <file>`: the audit log for
// a regulator, oldest first, the same columns as GET /v1/audit/export. Without --tenant it holds
// every tenant (the operator reads as a platform operator); with it, that tenant only.
export function registerAudit(program: Command) {
  const audit = program.command('audit').description('the compliance audit log');
  audit
    .command('export')
    .description('write the audit log (every tenant, or --tenant) as JSONL or CSV, with progress on stderr')
    .option('--format <format>', 'jsonl|csv', 'jsonl')
    .option('--from <date>', 'from this ISO date or date-time (inclusive)')
    .option('--to <date>', 'up to this ISO date or date-time (exclusive)')
    .option('--tenant <id>', 'one tenant only')
    .option('--operator <id>', 'who runs the export', 'cli-operator')
    .requiredOption('--out <file>', 'output file')
    .action(async (raw: Record<string, string>) => {
      const parsed = Options.safeParse(raw);
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
      const opts = parsed.data;
      const actor = opts.tenant ? operatorActor(opts.operator, opts.tenant, ['compliance']) : operatorActor(opts.operator, 'platform', ['compliance', 'platform_operator']);
      await withOperatorEnv(async ({ knex }) => {
        const filter = { from: opts.from, to: opts.to, tenantId: opts.tenant };
        const total = Number((await auditQuery(knex, actor, filter).count({ n: '*' }))[0]!.n);
        const out = await openOutputFile(opts.out);
        if (opts.format === 'csv') out.write(AUDIT_CSV_HEADER);
        const bar = progressBar(`audit export ${opts.format}`);
        let rows = 0;
        for await (const row of auditQuery(knex, actor, filter).orderBy([{ column: 'occurred_at' }, { column: 'seq' }]).stream()) {
          if (!out.write(auditLine(opts.format, toAuditEntry(row as Record<string, unknown>)))) await once(out, 'drain');
          bar.update(++rows, Math.max(total, rows));
        }
        bar.stop();
        await new Promise<void>((r) => out.end(() => r()));
        console.log(`wrote ${rows} audit rows to ${opts.out}`);
      });
    });
}
