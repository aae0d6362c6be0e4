import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { addDocument } from '../../knowledge/index.ts';
import type { Actor } from '../../schemas/common.ts';
import { operatorActor, withOperatorEnv } from '../operator-env.ts';
import { progressBar } from '../progress.ts';

// `parley docs add <collection> <files…>`: each .txt / .md file becomes a document of the
// collection (AddDocument, as GraphQL's addDocument), owned by --user in --tenant; the running
// server's projector chunks and embeds it. PDF is refused with a clear message (not supported yet).

const TEXT_TYPES = new Set(['.txt', '.md', '.markdown']);

export type AddedFile = { file: string; documentId?: string; error?: string };

export async function addDocumentFiles(
  commands: CommandHandler, actor: Actor, collection: string, files: string[], opts: { visibility?: 'private' | 'shared'; onProgress?: (done: number, total: number) => void } = {},
): Promise<AddedFile[]> {
  const out: AddedFile[] = [];
  for (const [i, file] of files.entries()) {
    const ext = path.extname(file).toLowerCase();
    if (ext === '.pdf') out.push({ file, error: 'PDF is not supported yet: convert it to text first (e.g. pdftotext)' });
    else if (!TEXT_TYPES.has(ext)) out.push({ file, error: `unsupported file type "${ext || '(none)'}": use .txt or .md` });
    else {
      const text = await readFile(file, 'utf8');
      const result = await addDocument(commands, actor, { collection, title: path.basename(file), text, visibility: opts.visibility ?? 'shared' });
      if (result.ok) out.push({ file, documentId: (result.events[0]!.data as { documentId: string }).documentId });
      else out.push({ file, error: `${result.error.code}: ${result.error.message}` });
    }
    opts.onProgress?.(i + 1, files.length);
  }
  return out;
}

export function registerDocs(program: Command) {
  const docs = program.command('docs').description('documents of a tenant collection (retrieval)');
  docs
    .command('add <collection> <files...>')
    .description('add .txt / .md files to a collection (shared in the tenant unless --private)')
    .option('--tenant <id>', 'the tenant', 'default')
    .option('--user <id>', 'the owner recorded for the documents', 'cli-operator')
    .option('--private', 'only the owner may retrieve them')
    .action(async (collection: string, files: string[], opts: { tenant: string; user: string; private?: boolean }) => {
      const actor = operatorActor(opts.user, opts.tenant);
      await withOperatorEnv(async (env) => {
        const bar = progressBar('documents');
        const added = await addDocumentFiles(env.commands, actor, collection, files, { visibility: opts.private ? 'private' : 'shared', onProgress: (d, t) => bar.update(d, t) });
        bar.stop();
        for (const a of added) console.log(a.documentId ? `${a.file}: document ${a.documentId}` : `${a.file}: NOT added — ${a.error}`);
        if (added.some((a) => a.error)) process.exitCode = 1;
      });
    });
}
