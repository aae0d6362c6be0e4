// Issue 19 item 6: erasure, retention and subject access cover memories, documents and chunks,
// through the real server (PostgreSQL, the indexer, GraphQL), asserting what the user, another user
// of the tenant and a compliance officer (an admin of the tenant) see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runKnowledgeRetention } from '../../bin/jobs/knowledge-retention.ts';
import { ERASED } from '../../eventstore/crypto/field-codec.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let gql: ReturnType<typeof graphqlClient>;
const tokens: Record<string, string> = {};
const mark = (name: string) => `${name}${randomUUID().slice(0, 8)}`;

before(async () => {
  server = await startTestServer();
  gql = graphqlClient(server.url);
  for (const [name, tenantId, roles] of [
    ['frank', 'acme', ['user']], ['bob', 'acme', ['user']], ['officer', 'acme', ['admin']], ['grace', 'keep30', ['user']], ['hank', 'other', ['user']],
  ] as const) tokens[name] = await server.token({ userId: name, tenantId, roles: [...roles] });
});
after(() => server?.stop());

const ADD = 'mutation($i: AddDocumentInput!) { addDocument(input: $i) { document { id } position } }';
const SEARCH = 'query($c: [String!]!, $q: String!, $p: String) { searchDocuments(collections: $c, query: $q, topK: 10, consistentWith: $p) { documentId text } }';
const EXPORT = 'mutation($u: ID!) { exportUserData(userId: $u) { counts { kind count } jsonl } }';

async function exported(token: string, userId: string) {
  const r = await gql(token, EXPORT, { u: userId });
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  const records = (r.data.exportUserData.jsonl as string).trim().split('\n').map((l) => JSON.parse(l));
  return { records, counts: Object.fromEntries(r.data.exportUserData.counts.map((c: any) => [c.kind, c.count])) as Record<string, number> };
}

// Every table whose rows, as text, contain the needle.
async function tablesContaining(needle: string): Promise<string[]> {
  const { rows } = await server.app.knex.raw(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
  const hits: string[] = [];
  for (const { table_name } of rows) {
    const r = await server.app.knex.raw(`select count(*)::int as n from "${table_name}" t where t::text like ?`, [`%${needle}%`]);
    if (r.rows[0].n > 0) hits.push(table_name);
  }
  return hits;
}

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 200 && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

test('subject access exports memories and documents; erasure removes them for the user, the tenant and the officer', async () => {
  const fact = mark('bikelock');
  const privateWord = mark('herbarium');
  const sharedWord = mark('quartermaster');
  await gql(tokens.frank!, 'mutation($t: String!) { rememberFact(text: $t) { memory { id } } }', { t: `My bike lock code is ${fact}.` });
  const priv = await gql(tokens.frank!, ADD, { i: { collection: 'frank-notes', title: 'Garden', text: `The ${privateWord} holds the pressed orchids.`, visibility: 'PRIVATE' } });
  const shared = await gql(tokens.frank!, ADD, { i: { collection: 'wiki', title: 'Stores', text: `The ${sharedWord} hands out the spare keyboards on Fridays.` } });
  assert.equal(shared.errors, undefined, JSON.stringify(shared.errors));
  const position = shared.data.addDocument.position;
  const bobSees = await gql(tokens.bob!, SEARCH, { c: ['wiki'], q: `Who hands out spare keyboards? ${sharedWord}`, p: position });
  assert.ok(bobSees.data.searchDocuments.some((h: any) => h.text.includes(sharedWord)), 'a shared document is found by another user of the tenant');

  // The user's own bundle and the compliance officer's bundle of the same user hold the fact and both documents, with their text.
  for (const who of ['frank', 'officer']) {
    const { records, counts } = await exported(tokens[who]!, 'frank');
    assert.equal(counts.memory, 1, who);
    assert.equal(counts.document, 2, who);
    assert.ok(records.some((r) => r.kind === 'memory' && r.text.includes(fact)));
    const docs = records.filter((r) => r.kind === 'document');
    assert.deepEqual(docs.map((d) => [d.title, d.visibility]).sort(), [['Garden', 'private'], ['Stores', 'shared']]);
    assert.ok(docs.some((d) => d.text.includes(privateWord)) && docs.some((d) => d.text.includes(sharedWord)));
    assert.ok(docs.every((d) => d.chunks >= 1));
  }
  const denied = await gql(tokens.bob!, EXPORT, { u: 'frank' });
  assert.equal(denied.errors?.[0]?.extensions?.code, 'FORBIDDEN', 'another user gets nothing');

  const erased = await gql(tokens.officer!, 'mutation { eraseUserData(userId: "frank") }');
  assert.equal(erased.errors, undefined, JSON.stringify(erased.errors));
  // The indexer drops the erased owner's documents and passages, shared ones included (see knowledge/README.md).
  const left = await until(async () => (await server.app.knex('parley_document_chunks').where({ tenant_id: 'acme', owner_id: 'frank' })).length
    + (await server.app.knex('parley_documents').where({ tenant_id: 'acme', owner_id: 'frank' })).length, (n) => n === 0);
  assert.equal(left, 0);
  for (const word of [fact, privateWord, sharedWord]) assert.deepEqual(await tablesContaining(word), [], `no table holds "${word}"`);
  const bobAfter = await gql(tokens.bob!, SEARCH, { c: ['wiki'], q: `Who hands out spare keyboards? ${sharedWord}` });
  assert.ok(bobAfter.data.searchDocuments.every((h: any) => !h.text.includes(sharedWord)), 'the tenant no longer retrieves the erased user\'s shared document');
  assert.deepEqual((await gql(tokens.frank!, '{ memories { text } }')).data.memories, []);
  const docEvents = await server.app.store.readStream(`document-${shared.data.addDocument.document.id}`);
  assert.equal(docEvents[0]?.type === 'DocumentAdded' && docEvents[0].data.text, ERASED, 'the log\'s copy is unreadable');
  assert.equal(priv.errors, undefined);

  const { records, counts } = await exported(tokens.officer!, 'frank');
  assert.equal(counts.memory, 0);
  assert.equal(counts.document, 0);
  for (const word of [fact, privateWord, sharedWord]) assert.ok(!JSON.stringify(records).includes(word), 'the officer\'s export after erasure holds none of it');
});

test('forgetting a fact destroys its own key: the log reads "[erased]" for it, the other facts stay', async () => {
  const keep = mark('keepme');
  const drop = mark('dropme');
  await gql(tokens.hank!, 'mutation($t: String!) { rememberFact(text: $t) { memory { id } } }', { t: `I like ${keep}.` });
  const d = await gql(tokens.hank!, 'mutation($t: String!) { rememberFact(text: $t) { memory { id } } }', { t: `I once liked ${drop}.` });
  const f = await gql(tokens.hank!, 'mutation($id: ID!) { forgetFact(id: $id) { deleted } }', { id: d.data.rememberFact.memory.id });
  assert.equal(f.data.forgetFact.deleted, true);
  const events = await server.app.store.readStream('memory-other/hank');
  const texts = events.flatMap((e) => (e.type === 'MemorySaved' ? [e.data.text] : []));
  assert.equal(texts.length, 2);
  assert.equal(texts[0], `I like ${keep}.`);
  assert.equal(texts[1], ERASED);
});

test('retention forgets memories and removes documents past the tenant period, as events; other tenants keep theirs', async () => {
  const word = mark('retained');
  await gql(tokens.grace!, 'mutation($t: String!) { rememberFact(text: $t) { memory { id } } }', { t: `My ${word} fact.` });
  const doc = await gql(tokens.grace!, ADD, { i: { collection: 'notes', title: 'Old', text: `An old note about ${word}.` } });
  const hankDoc = await gql(tokens.hank!, ADD, { i: { collection: 'notes', title: 'Hank', text: 'Hank keeps this one.' } });
  const position = hankDoc.data.addDocument.position;
  await until(() => gql(tokens.grace!, 'query($p: String) { documents(collection: "notes", consistentWith: $p) { id } }', { p: position }), (r) => r.data?.documents?.length === 1);

  const out = await runKnowledgeRetention(server.app.knex, server.app.commands, server.app.keys, { defaultDays: null, tenantDays: { keep30: 0 } });
  assert.deepEqual(out.documents, [doc.data.addDocument.document.id]);
  assert.equal(out.memories.length, 1);
  assert.deepEqual((await gql(tokens.grace!, '{ memories { text } }')).data.memories, [], 'the user sees the fact gone');
  const mem = await server.app.store.readStream('memory-keep30/grace');
  const forgotten = mem.at(-1)!;
  assert.equal(forgotten.type, 'MemoryForgotten');
  assert.equal(forgotten.type === 'MemoryForgotten' && forgotten.data.reason, 'retention');
  assert.equal(forgotten.metadata.actor.userId, 'parley-retention', 'recorded as the retention job\'s act');
  assert.equal(mem[0]!.type === 'MemorySaved' && mem[0]!.data.text, ERASED);
  const rows = await until(() => server.app.knex('parley_document_chunks').where({ document_id: doc.data.addDocument.document.id }), (r) => r.length === 0);
  assert.deepEqual(rows, []);
  assert.deepEqual(await tablesContaining(word), []);
  assert.deepEqual((await gql(tokens.grace!, '{ documents(collection: "notes") { id } }')).data.documents, []);
  assert.equal((await gql(tokens.hank!, '{ documents(collection: "notes") { title } }')).data.documents[0]?.title, 'Hank', 'a tenant without the period keeps its documents');
  assert.ok((await gql(tokens.hank!, '{ memories { text } }')).data.memories.length >= 1);
  const again = await runKnowledgeRetention(server.app.knex, server.app.commands, server.app.keys, { defaultDays: null, tenantDays: { keep30: 0 } });
  assert.deepEqual(again, { memories: [], documents: [] }, 'a second run finds nothing left');
});
