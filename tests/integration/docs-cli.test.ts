// `parley docs add`'s core: .txt/.md files become documents of the collection (AddDocument events,
// title = file name); a PDF or another type is refused by name, the others still added.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDocumentFiles } from '../../bin/commands/docs.ts';
import { CommandHandler } from '../../commands/command-handler.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
let store: PostgresEventStore;
before(async () => {
  db = await createTestDatabase();
  store = await new PostgresEventStore({ connectionString: db.url }).start();
});
after(async () => { await store.close(); await db.drop(); });

test('adds text and markdown files, refuses PDF and unknown types with a reason, reports progress', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-docs-'));
  const files = ['policy.md', 'notes.txt', 'scan.pdf', 'image.png'].map((f) => path.join(dir, f));
  writeFileSync(files[0]!, '# Leave policy\n\n28 days of paid leave.');
  writeFileSync(files[1]!, 'Lunch is at noon.');
  writeFileSync(files[2]!, '%PDF-1.4');
  writeFileSync(files[3]!, 'png');
  const progress: number[] = [];
  const actor = { userId: 'ops', tenantId: 'acme', roles: ['admin' as const] };
  const added = await addDocumentFiles(new CommandHandler({ store }), actor, 'handbook', files, { onProgress: (d) => progress.push(d) });
  assert.deepEqual(progress, [1, 2, 3, 4]);
  assert.ok(added[0]!.documentId && added[1]!.documentId);
  assert.match(added[2]!.error!, /PDF is not supported yet/);
  assert.match(added[3]!.error!, /unsupported file type "\.png"/);
  const [event] = await store.readStream(`document-${added[0]!.documentId}`);
  assert.equal(event?.type, 'DocumentAdded');
  assert.deepEqual(event?.type === 'DocumentAdded' && [event.data.title, event.data.collection, event.data.tenantId, event.data.visibility, event.data.text],
    ['policy.md', 'handbook', 'acme', 'shared', '# Leave policy\n\n28 days of paid leave.']);
});
