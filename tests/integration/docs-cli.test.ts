// `parley docs add`'s core: .txt/.md/.pdf files become documents of the collection (AddDocument
// events, title = file name or the PDF's own Title); a PDF without text, a damaged one or another
// type is refused with the reason, the others still added. The PDFs are written byte by byte
// (tests/support/pdf-fixture.ts), not by the library that reads them.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
