// Long-term knowledge through the real server: /v1/embeddings with the official `openai` client,
// user memory (GraphQL, into the system turn, erased with the user's key) and documents with
// hybrid search (tenant-isolated, private documents for their owner only).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { cosine } from '../../inference/embeddings/index.ts';
import { unpackTokenIds } from '../../schemas/prompt.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let gql: ReturnType<typeof graphqlClient>;
const tokens: Record<string, string> = {};

before(async () => {
  server = await startTestServer();
  gql = graphqlClient(server.url);
  for (const [name, tenantId, roles] of [['alice', 'acme', ['user']], ['bob', 'acme', ['user']], ['carol', 'globex', ['user']], ['dave', 'acme', ['user']]] as const) {
    tokens[name] = await server.token({ userId: name, tenantId, roles: [...roles] });
  }
});
after(() => server?.stop());

const client = (token: string) => new OpenAI({ apiKey: token, baseURL: `${server.url}/v1`, maxRetries: 0 });

test('POST /v1/embeddings answers the official client (base64 by default, and float)', async () => {
  const openai = client(tokens.alice!);
  const texts = ['Where does Kalo live?', 'Kalo lives in the city of Zartor.', 'The drone costs 120 dollars.'];
  const b64 = await openai.embeddings.create({ model: 'parley-embed', input: texts });
  const flt = await openai.embeddings.create({ model: 'parley-embed', input: texts, encoding_format: 'float' });
  assert.equal(b64.object, 'list');
  assert.equal(b64.model, 'parley-embed');
  assert.equal(b64.data.length, 3);
  assert.deepEqual(b64.data.map((d) => d.index), [0, 1, 2]);
  for (let i = 0; i < 3; i++) {
    assert.equal(flt.data[i]!.embedding.length, 128);
    assert.ok(cosine(b64.data[i]!.embedding, flt.data[i]!.embedding) > 0.999999);
    const norm = Math.hypot(...flt.data[i]!.embedding);
    assert.ok(Math.abs(norm - 1) < 1e-4, `unit length, got ${norm}`);
  }
  assert.ok(b64.usage.prompt_tokens > 3 && b64.usage.total_tokens === b64.usage.prompt_tokens);
  const [q, answer, other] = flt.data.map((d) => d.embedding);
  assert.ok(cosine(q!, answer!) > cosine(q!, other!), 'the question is nearer its answer than an unrelated sentence');
  const single = await openai.embeddings.create({ model: 'parley-embed', input: 'Where does Kalo live?', encoding_format: 'float' });
  assert.equal(single.data.length, 1);
  assert.ok(cosine(single.data[0]!.embedding, q!) > 0.9999, 'a text alone and in a batch embeds the same');
});

test('/v1/embeddings: bad requests get OpenAI-shaped errors', async () => {
  const openai = client(tokens.alice!);
  await assert.rejects(openai.embeddings.create({ model: 'parley-embed', input: [] }), (e: any) => e.status === 400 && e.param === 'input' && /empty/.test(e.message));
  await assert.rejects(openai.embeddings.create({ model: 'parley-embed', input: ['ok', ''] }), (e: any) => e.status === 400 && e.param === 'input[1]');
  await assert.rejects(openai.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }), (e: any) => e.status === 404 && e.code === 'model_not_found');
  await assert.rejects(openai.embeddings.create({ model: 'parley-embed', input: 'x', dimensions: 64 }), (e: any) => e.status === 400 && e.param === 'dimensions');
  await assert.rejects(client('not-a-token').embeddings.create({ model: 'parley-embed', input: 'x' }), (e: any) => e.status === 401);
  const res = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' }, body: '{"input": "x", "encoding_format": "int8"}' });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { type: string; param: string; code: string } };
  assert.equal(body.error.type, 'invalid_request_error');
  assert.equal(body.error.param, 'encoding_format');
  const get = await fetch(`${server.url}/v1/embeddings`, { headers: { authorization: `Bearer ${tokens.alice}` } });
  assert.equal(get.status, 405);
});

test('memories: remember, list, forget; bad input and unknown ids are clear errors', async () => {
  const saved = await gql(tokens.bob!, 'mutation($t: String!) { rememberFact(text: $t) { memory { id text savedAt } position } }', { t: '  My dog is called Biscuit.  ' });
  assert.equal(saved.errors, undefined);
  const id = saved.data.rememberFact.memory.id;
  assert.equal(saved.data.rememberFact.memory.text, 'My dog is called Biscuit.');
  await gql(tokens.bob!, 'mutation { rememberFact(text: "I prefer metric units.") { memory { id } } }');
  let list = await gql(tokens.bob!, '{ memories { id text } }');
  assert.deepEqual(list.data.memories.map((m: any) => m.text), ['My dog is called Biscuit.', 'I prefer metric units.']);
  // another user, even in the same tenant, has their own memories
  assert.deepEqual((await gql(tokens.alice!, '{ memories { id } }')).data.memories, []);
  const notMine = await gql(tokens.alice!, 'mutation($id: ID!) { forgetFact(id: $id) { deleted } }', { id });
  assert.equal(notMine.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  const forgot = await gql(tokens.bob!, 'mutation($id: ID!) { forgetFact(id: $id) { id deleted } }', { id });
  assert.equal(forgot.data.forgetFact.deleted, true);
  list = await gql(tokens.bob!, '{ memories { text } }');
  assert.deepEqual(list.data.memories.map((m: any) => m.text), ['I prefer metric units.']);
  const empty = await gql(tokens.bob!, 'mutation { rememberFact(text: "   ") { memory { id } } }');
  assert.equal(empty.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  const long = await gql(tokens.bob!, 'mutation($t: String!) { rememberFact(text: $t) { memory { id } } }', { t: 'x'.repeat(1001) });
  assert.equal(long.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  const anonymous = await gql(null, '{ memories { id } }');
  assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
});

test('memories go into the system turn of a new conversation', async () => {
  await gql(tokens.dave!, 'mutation { rememberFact(text: "My favourite city is Lisbon.") { memory { id } } }');
  const sent = await gql(tokens.dave!, 'mutation { sendMessage(input: { content: "Hi" }) { generation { id } } }');
  assert.equal(sent.errors, undefined);
  const generationId = sent.data.sendMessage.generation.id;
  let prompt: number[] | null = null;
  for (let i = 0; i < 100 && !prompt; i++) {
    const requested = (await server.app.store.readStream(`generation-${generationId}`)).find((e) => e.type === 'GenerationRequested');
    if (requested?.type === 'GenerationRequested' && requested.data.prompt) prompt = unpackTokenIds(requested.data.prompt);
    else await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(prompt, 'the saga requested the generation');
  const text = loadModel(SHIPPED_MODEL_DIR).tokenizer.decode(prompt!, { skipSpecialTokens: false });
  assert.match(text, /system\nFacts the user asked you to remember:\n- My favourite city is Lisbon\./);
});

// QA: five long facts (within the limits: 200 × 1000 characters) made every turn of their user fail
// with "the message needs 2233 prompt tokens but only 1984 fit". Memories now take at most a share of
// the context, the oldest left out first.
test('long memories do not stop a turn: the newest facts that fit go into the system turn, the oldest are left out', async () => {
  const fay = await server.token({ userId: 'fay', tenantId: 'acme', roles: ['user'] });
  const fact = (i: number) => `Fact number ${i}: ${'my garden has apple trees, pear trees, a small pond with goldfish and a bench by the wall. '.repeat(10)}`.slice(0, 950);
  for (let i = 1; i <= 5; i++) assert.equal((await gql(fay, 'mutation($t: String!) { rememberFact(text: $t) { memory { id } } }', { t: fact(i) })).errors, undefined);
  const sent = await gql(fay, 'mutation { sendMessage(input: { content: "Hello" }) { generation { id } } }');
  assert.equal(sent.errors, undefined);
  const generationId = sent.data.sendMessage.generation.id;
  let events: Awaited<ReturnType<typeof server.app.store.readStream>> = [];
  for (let i = 0; i < 100; i++) {
    events = await server.app.store.readStream(`generation-${generationId}`);
    if (events.some((e) => e.type === 'GenerationRequested')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const failed = events.find((e) => e.type === 'GenerationFailed');
  assert.equal(failed?.type === 'GenerationFailed' ? failed.data.reason : undefined, undefined, 'the turn is not failed');
  const requested = events.find((e) => e.type === 'GenerationRequested');
  const prompt = requested?.type === 'GenerationRequested' && requested.data.prompt ? unpackTokenIds(requested.data.prompt) : null;
  assert.ok(prompt, 'the saga requested the generation with a prompt');
  const text = loadModel(SHIPPED_MODEL_DIR).tokenizer.decode(prompt, { skipSpecialTokens: false });
  assert.match(text, /system\nFacts the user asked you to remember:\n- Fact number 5:/, 'the newest fact is kept');
  assert.doesNotMatch(text, /Fact number 1:/, 'the oldest fact is left out');
  assert.match(text, /Hello/);
});

test('erasing a user erases their memories and documents (crypto-shredding): gone from the API, the read model, and unreadable in the log', async () => {
  const erin = await server.token({ userId: 'erin', tenantId: 'acme', roles: ['user'] });
  const fact = await gql(erin, 'mutation { rememberFact(text: "My locker code is 4817.") { memory { id } } }');
  const doc = await gql(erin, 'mutation { addDocument(input: {collection: "erin-notes", title: "Locker", text: "The locker code of Erin is 4817."}) { position } }');
  const listed = await gql(erin, 'query($p: String) { documents(collection: "erin-notes", consistentWith: $p) { title chunks } }', { p: doc.data.addDocument.position });
  assert.deepEqual(listed.data.documents, [{ title: 'Locker', chunks: 1 }]);
  assert.equal((await gql(erin, '{ memories { text } }')).data.memories.length, 1);
  const raw = await server.app.knex.raw(`select data::text as d from parley_events where type = 'MemorySaved' and stream_id = 'memory-acme/erin'`);
  assert.equal(raw.rows.length, 1);
  assert.doesNotMatch(raw.rows[0].d, /4817/, 'the log holds the fact sealed, never in clear');
  const erased = await gql(erin, 'mutation { eraseUserData(userId: "erin") }');
  assert.equal(erased.errors, undefined);
  assert.deepEqual((await gql(erin, '{ memories { text } }')).data.memories, []);
  const events = await server.app.store.readStream('memory-acme/erin');
  assert.equal(events[0]?.type === 'MemorySaved' && events[0].data.text, '[erased]');
  // her documents leave the read model (the indexer deletes them on UserDataErased)
  let left: unknown[] = [1];
  for (let i = 0; i < 100 && left.length; i++) {
    left = (await server.app.knex('parley_document_chunks').where({ tenant_id: 'acme', owner_id: 'erin' })).concat(await server.app.knex('parley_documents').where({ tenant_id: 'acme', owner_id: 'erin' }));
    if (left.length) await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(left, [], 'no passage or document row of the erased user is left');
  const again = await gql(erin, 'mutation { rememberFact(text: "new fact") { memory { id } } }');
  assert.equal(again.errors?.[0]?.extensions?.code, 'FORBIDDEN', 'nothing new is stored for an erased user');
  // Forgetting is writing too: it was accepted (deleted: true) and appended MemoryForgotten to her stream.
  const forget = await gql(erin, 'mutation($id: ID!) { forgetFact(id: $id) { deleted } }', { id: fact.data.rememberFact.memory.id });
  assert.equal(forget.errors?.[0]?.extensions?.code, 'FORBIDDEN', 'an erased user cannot forget either');
  assert.deepEqual((await server.app.store.readStream('memory-acme/erin')).map((e) => e.type), ['MemorySaved'], 'nothing appended after the erasure');
});

const ADD = 'mutation($i: AddDocumentInput!) { addDocument(input: $i) { document { id title collection visibility ownerId chunks } position } }';
const SEARCH = 'query($c: [String!]!, $q: String!, $p: String) { searchDocuments(collections: $c, query: $q, topK: 3, consistentWith: $p) { documentId title text score textRank vectorRank } }';

test('documents: hybrid search finds the passage, within the tenant only, private ones for their owner only', async () => {
  const handbook = [
    'Holidays: every employee has 28 days of paid leave per year. Unused days expire in March.',
    'Expenses: travel costs are refunded within 30 days when the receipt is uploaded to the portal.',
    'Security: badges must be worn inside the building at all times. Lost badges are replaced by reception.',
  ].join('\n\n') + '\n\n' + 'Filler paragraph about the company history and its values. '.repeat(40);
  const a = await gql(tokens.alice!, ADD, { i: { collection: 'handbook', title: 'Acme staff handbook', text: handbook } });
  assert.equal(a.errors, undefined);
  assert.equal(a.data.addDocument.document.visibility, 'SHARED');
  assert.equal(a.data.addDocument.document.ownerId, 'alice');
  const secret = await gql(tokens.alice!, ADD, { i: { collection: 'handbook', title: 'Alice private notes', text: 'The badge of Alice opens the server room on floor 3.', visibility: 'PRIVATE' } });
  const other = await gql(tokens.carol!, ADD, { i: { collection: 'handbook', title: 'Globex handbook', text: 'Holidays: Globex employees have 35 days of paid leave per year.' } });
  const position = other.data.addDocument.position;

  const acme = await gql(tokens.bob!, SEARCH, { c: ['handbook'], q: 'How many days of paid leave do employees get?', p: position });
  assert.equal(acme.errors, undefined);
  const hits = acme.data.searchDocuments;
  assert.ok(hits.length >= 1);
  assert.match(hits[0].text, /28 days of paid leave/);
  assert.ok(hits.every((h: any) => h.documentId !== other.data.addDocument.document.id), 'acme never sees globex documents');
  assert.ok(hits.every((h: any) => h.documentId !== secret.data.addDocument.document.id), 'bob does not see alice’s private document');
  assert.ok(hits[0].textRank !== null && hits[0].vectorRank !== null, 'both paths found the best passage');

  // Every passage either path can find for a query aimed at the other tenant's document: none of it.
  const wide = await gql(tokens.bob!, 'query($q: String!) { searchDocuments(collections: ["handbook"], query: $q, topK: 50) { documentId } }', { q: 'Globex employees have 35 days of paid leave' });
  assert.ok(wide.data.searchDocuments.length >= 3, 'acme passages are found');
  assert.ok(wide.data.searchDocuments.every((h: any) => h.documentId !== other.data.addDocument.document.id), 'not even deep in the list');
  assert.ok(wide.data.searchDocuments.every((h: any) => h.documentId !== secret.data.addDocument.document.id));

  const globex = await gql(tokens.carol!, SEARCH, { c: ['handbook'], q: 'How many days of paid leave do employees get?' });
  assert.ok(globex.data.searchDocuments.length >= 1);
  assert.ok(globex.data.searchDocuments.every((h: any) => h.documentId === other.data.addDocument.document.id), 'globex sees only its own document');

  const alices = await gql(tokens.alice!, SEARCH, { c: ['handbook'], q: 'Which room does the badge of Alice open?' });
  assert.ok(alices.data.searchDocuments.some((h: any) => h.documentId === secret.data.addDocument.document.id), 'the owner finds her private document');

  const listed = await gql(tokens.bob!, '{ documents(collection: "handbook") { id title chunks } }');
  assert.deepEqual(listed.data.documents.map((d: any) => d.title), ['Acme staff handbook']);
  assert.ok(listed.data.documents[0].chunks >= 2, 'a long document is cut into several passages');
  assert.deepEqual((await gql(tokens.carol!, '{ documents(collection: "handbook") { title } }')).data.documents.map((d: any) => d.title), ['Globex handbook']);

  // removal: another tenant cannot even see it; another user of the tenant may not; the owner may
  const id = a.data.addDocument.document.id;
  assert.equal((await gql(tokens.carol!, 'mutation($id: ID!) { removeDocument(id: $id) { deleted } }', { id })).errors?.[0]?.extensions?.code, 'NOT_FOUND');
  assert.equal((await gql(tokens.bob!, 'mutation($id: ID!) { removeDocument(id: $id) { deleted } }', { id })).errors?.[0]?.extensions?.code, 'FORBIDDEN');
  const removed = await gql(tokens.alice!, 'mutation($id: ID!) { removeDocument(id: $id) { deleted position } }', { id });
  assert.equal(removed.data.removeDocument.deleted, true);
  const after = await gql(tokens.bob!, SEARCH, { c: ['handbook'], q: 'How many days of paid leave do employees get?', p: removed.data.removeDocument.position });
  assert.deepEqual(after.data.searchDocuments, []);
  const events = await server.app.store.readStream(`document-${id}`);
  assert.equal(events[0]?.type === 'DocumentAdded' && events[0].data.text, '[erased]', 'the removed document’s key is destroyed');
});

test('documents: bad input is BAD_USER_INPUT naming the field', async () => {
  const badCollection = await gql(tokens.alice!, ADD, { i: { collection: 'hand book', title: 't', text: 'x' } });
  assert.equal(badCollection.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.equal(badCollection.errors?.[0]?.extensions?.field, 'collection');
  const emptyText = await gql(tokens.alice!, ADD, { i: { collection: 'c', title: 't', text: '' } });
  assert.equal(emptyText.errors?.[0]?.extensions?.field, 'text');
  // Whitespace only was accepted and indexed as a one-passage document of just its title, then cited.
  const blankText = await gql(tokens.alice!, ADD, { i: { collection: 'c', title: 'Blank', text: ' \n\t\n  ' } });
  assert.equal(blankText.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.equal(blankText.errors?.[0]?.extensions?.field, 'text');
  assert.match(blankText.errors?.[0]?.message ?? '', /must not be empty/);
  assert.equal(blankText.data?.addDocument ?? null, null);
  const topK = await gql(tokens.alice!, 'query { searchDocuments(collections: ["c"], query: "x", topK: 0) { chunkId } }');
  assert.equal(topK.errors?.[0]?.extensions?.field, 'topK');
  const noCollections = await gql(tokens.alice!, 'query { searchDocuments(collections: [], query: "x") { chunkId } }');
  assert.equal(noCollections.errors?.[0]?.extensions?.field, 'collections');
});
