import { once } from 'node:events';
import { unlink, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { newCounts, startUserDataExport } from '../../read-api/subject-access/index.ts';
import { operatorActor, withOperatorEnv } from '../operator-env.ts';
import { openOutputFile } from '../output-file.ts';
import { progressBar } from '../progress.ts';

// `parley export user --user <id> [--tenant <id>] --out <file>`: a subject-access bundle as JSONL
// (the header record first) and <file>.manifest.json (counts per kind), recorded as UserDataExported
// under the operator's name, like an export through the API.
export function registerExportUser(exp: Command) {
  exp
    .command('user')
    .description('everything Parley holds about one user (GDPR right of access), decrypted, as JSONL with a manifest')
    .requiredOption('--user <id>', 'the user id')
    .option('--tenant <id>', 'the user\'s tenant', 'default')
    .option('--operator <id>', 'who runs the export (recorded in the audit log)', 'cli-operator')
    .requiredOption('--out <file>', 'output JSONL file')
    .action(async (opts: { user: string; tenant: string; operator: string; out: string }) => {
      const actor = operatorActor(opts.operator, opts.tenant);
      await withOperatorEnv(async (env) => {
        // Opened before the export is recorded: an unwritable path records no UserDataExported.
        const out = await openOutputFile(opts.out);
        const started = await startUserDataExport(env, actor, opts.user, 'cli');
        if (!started.ok) {
          out.destroy();
          await unlink(opts.out).catch(() => {});
          throw new Error(`${started.code}: ${started.message}`);
        }
        const write = async (record: object) => { if (!out.write(JSON.stringify(record) + '\n')) await once(out, 'drain'); };
        await write(started.header);
        const counts = newCounts();
        const bar = progressBar(`export user ${opts.tenant}/${opts.user}`);
        let n = 0;
        for await (const record of started.records) {
          counts[record.kind]++;
          await write(record);
          bar.update(++n, n); // the total is not known before the end: a running count
        }
        bar.stop();
        await new Promise<void>((r) => out.end(() => r()));
        const manifest = { ...started.header, kind: undefined, records: n, counts, file: opts.out };
        await writeFile(`${opts.out}.manifest.json`, JSON.stringify(manifest, null, 2) + '\n');
        console.log(`wrote ${n} records about ${opts.tenant}/${opts.user} to ${opts.out}; manifest ${opts.out}.manifest.json (UserDataExported ${started.header.eventId})`);
      });
    });
}
