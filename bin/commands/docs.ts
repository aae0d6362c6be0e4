import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { addDocument, pdfText, PdfTextError } from '../../knowledge/index.ts';
import type { Actor } from '../../schemas/common.ts';
import { operatorActor, withOperatorEnv } from '../operator-env.ts';
import { progressBar } from '../progress.ts';

// `parley docs add <collection> <files…>`: each .txt / .md / .pdf file becomes a document of the
// collection (AddDocument, as GraphQL's addDocument), owned by --user in --tenant; the running
// server's projector chunks and embeds it. A PDF's text is read with unpdf (knowledge/pdf-text.ts);
// its title is the PDF's own Title when it has one, else the file name. A PDF without a text layer,
// password-protected or damaged is refused with the reason; the other files are still added.

const TEXT_TYPES = new Set(['.txt', '.md', '.markdown']);

export type AddedFile = { file: string; documentId?: string; error?: string };

export async function addDocumentFiles(
  commands: CommandHandler, actor: Actor, collection: string, files: string[], opts: { visibility?: 'private' | 'shared'; onProgress?: (done: number, total: number) => void } = {},
): Promise<AddedFile[]> {
  const out: AddedFile[] = [];
  for (const [i, file] of files.entries()) {
    const ext = path.extname(file).toLowerCase();
    let doc: { title: string; text: string } | null = null;
    if (ext === '.pdf') {
      try {
        const pdf = await pdfText(new Uint8Array(await readFile(file)));
        doc = { title: (pdf.title ?? path.basename(file)).slice(0, 300), text: pdf.text };
      } catch (error) {
        if (!(error instanceof PdfTextError)) throw error;
        out.push({ file, error: error.message });
      }
    } else if (!TEXT_TYPES.has(ext)) out.push({ file, error: `unsupported file type "${ext || '(none)'}": use .txt, .md or .pdf` });
    else doc = { title: path.basename(file), text: await readFile(file, 'utf8') };
    if (doc) {
      const result = await addDocument(commands, actor, { collection, title: doc.title, text: doc.text, visibility: opts.visibility ?? 'shared' });
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
    .description('add .txt / .md / .pdf files to a collection (shared in the tenant unless --private)')
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
