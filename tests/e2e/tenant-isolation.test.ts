import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-sse';
import OpenAI from 'openai';
import type { Actor } from '../../schemas/common.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';

// The cross-tenant matrix: every query, mutation, subscription and HTTP route, tried by someone of
// another tenant — the same user id, and an admin, a compliance officer and a data scientist —
// against acme's data. Objects answer as missing (NOT_FOUND / null: no probing), role surfaces
// as FORBIDDEN, and nothing of acme's changes. Positive controls show the same calls work inside
// acme, so a denial is the tenant check and not a broken call.

const CANARY = 'pineapple-canary-4711';
const acme = (userId: string, ...roles: Actor['roles']): Actor => ({ userId, tenantId: 'acme', roles: roles.length ? roles : ['user'] });
const evil = (userId: string, ...roles: Actor['roles']): Actor => ({ userId, tenantId: 'evil', roles: roles.length ? roles : ['user'] });

const ATTACKERS: Record<string, Actor> = {
  'same user id in another tenant': evil('alice'),
  'admin of another tenant': evil('mallory', 'admin'),
  'compliance of another tenant': evil('mallory', 'compliance'),
  'data_scientist of another tenant': evil('mallory', 'data_scientist'),
  'every role of another tenant, same user id': evil('alice', 'user', 'admin', 'compliance', 'data_scientist'),
  // platform_operator is only a modifier: alone it grants nothing, not even another tenant's same user id.
  'platform_operator alone, same user id': evil('alice', 'platform_operator'),
};

describe('tenant isolation: identity is (tenant, user), roles stay inside their tenant', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let victim: { token: string; conversationId: string; generationId: string; blockedEventId: string; appealId: string; position: string };
  let knowledge: { memoryId: string; sharedDocId: string; privateDocId: string };
  let twinToken: string;
  let twinConversationId: string;

  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
    const token = await server.token(acme('alice'));
    const sent = await gql(token, `mutation($c: String!) { sendMessage(input: {content: $c, title: "alice's plans"}) { conversation { id } generation { id } position } }`,
      { c: `Remember that my code word is ${CANARY}.` });
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    const { conversation, generation } = sent.data.sendMessage;
    const chunks = await streamChunks(server.url, token, generation.id);
    assert.equal(chunks.at(-1)!.done, true);

    // A blocked message gives a safety decision to appeal.
    const blocked = await gql(token, `mutation { sendMessage(input: {content: "how do I make a pipe bomb"}) { generation { id } } }`);
    await streamChunks(server.url, token, blocked.data.sendMessage.generation.id);
    const complianceAcme = await server.token(acme('carol', 'compliance'));
    let blockedEventId: string | undefined;
    for (let i = 0; i < 100 && !blockedEventId; i++) {
      const r = await gql(complianceAcme, `{ auditLog(filter: {userId: "alice", verdict: "blocked"}) { edges { node { eventId } } } }`);
      blockedEventId = r.data?.auditLog.edges[0]?.node.eventId;
      if (!blockedEventId) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(blockedEventId, 'the blocked decision reached the audit log');
    const appeal = await gql(token, `mutation($id: ID!) { fileAppeal(safetyEventId: $id, reason: "it was about plumbing") { appealId position } }`, { id: blockedEventId });
    assert.equal(appeal.errors, undefined, JSON.stringify(appeal.errors));

    twinToken = await server.token(acme('twin'));
    const twin = await gql(twinToken, `mutation { sendMessage(input: {content: "twin was here"}) { conversation { id } position } }`);
    twinConversationId = twin.data.sendMessage.conversation.id;
    victim = { token, conversationId: conversation.id, generationId: generation.id, blockedEventId: blockedEventId!, appealId: appeal.data.fileAppeal.appealId, position: appeal.data.fileAppeal.position };

    // Knowledge: a memory, a shared and a private document in collection "kb", indexed.
    const fact = await gql(token, `mutation($t: String!) { rememberFact(text: $t) { memory { id } } }`, { t: `my locker code is ${CANARY}` });
    const addDoc = (visibility: string) => gql(token, `mutation($t: String!, $v: DocumentVisibility!) { addDocument(input: {collection: "kb", title: "zebra notes", text: $t, visibility: $v}) { document { id } position } }`,
      { t: `Project zebra ${visibility} ${CANARY} ships in March.`, v: visibility });
    const shared = await addDoc('SHARED');
    const priv = await addDoc('PRIVATE');
    assert.equal(fact.errors ?? shared.errors ?? priv.errors, undefined, JSON.stringify([fact.errors, shared.errors, priv.errors]));
    const indexed = await gql(token, `query($p: String) { documents(collection: "kb", consistentWith: $p) { id } }`, { p: priv.data.addDocument.position });
    assert.equal(indexed.data.documents.length, 2, JSON.stringify(indexed));
    knowledge = { memoryId: fact.data.rememberFact.memory.id, sharedDocId: shared.data.addDocument.document.id, privateDocId: priv.data.addDocument.document.id };

    // The other tenant has data of its own, so its log and audit are not simply empty.
    const own = await gql(await server.token(evil('alice')), `mutation { sendMessage(input: {content: "hello from evil"}) { generation { id } } }`);
    await streamChunks(server.url, await server.token(evil('alice')), own.data.sendMessage.generation.id);
  });
  after(async () => server?.stop());

  const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;

  for (const [who, attacker] of Object.entries(ATTACKERS)) {
    describe(who, () => {
      let t: string;
      before(async () => { t = await server.token(attacker); });

      it('reads nothing of acme through queries (objects read as missing)', async () => {
        const conv = await gql(t, `query($id: ID!) { conversation(id: $id) { id title messages { content } } }`, { id: victim.conversationId });
        assert.equal(conv.data?.conversation, null, JSON.stringify(conv));
        const gen = await gql(t, `query($id: ID!) { generation(id: $id) { id content } }`, { id: victim.generationId });
        assert.equal(gen.data?.generation, null, JSON.stringify(gen));
        const list = await gql(t, `{ conversations(first: 100) { edges { node { id title } } } }`);
        assert.ok(!JSON.stringify(list).includes(victim.conversationId));
        const search = await gql(t, `query($s: String!) { conversations(search: $s) { edges { node { id } } } }`, { s: CANARY });
        assert.deepEqual(search.data?.conversations.edges ?? [], []);
        const usage = await gql(t, `{ usage(userId: "alice") { tenantId } }`);
        for (const day of usage.data?.usage ?? []) assert.equal(day.tenantId, 'evil');
      });

      it('changes nothing of acme through mutations (NOT_FOUND, or FORBIDDEN for a role it lacks)', async () => {
        const calls: [string, string, Record<string, unknown>][] = [
          ['sendMessage', `mutation($id: ID!) { sendMessage(input: {conversationId: $id, content: "injected"}) { generation { id } } }`, { id: victim.conversationId }],
          ['regenerate', `mutation($id: ID!) { regenerate(generationId: $id) { generation { id } } }`, { id: victim.generationId }],
          ['cancelGeneration', `mutation($id: ID!) { cancelGeneration(id: $id) { position } }`, { id: victim.generationId }],
          ['giveFeedback', `mutation($id: ID!) { giveFeedback(input: {generationId: $id, rating: DOWN, comment: "x"}) { position } }`, { id: victim.generationId }],
          ['renameConversation', `mutation($id: ID!) { renameConversation(id: $id, title: "pwned") { position } }`, { id: victim.conversationId }],
          ['deleteConversation', `mutation($id: ID!) { deleteConversation(id: $id) { position } }`, { id: victim.conversationId }],
          ['fileAppeal', `mutation($id: ID!) { fileAppeal(safetyEventId: $id, reason: "mine") { appealId } }`, { id: victim.blockedEventId }],
        ];
        for (const [name, query, variables] of calls) {
          const r = await gql(t, query, variables);
          assert.equal(codeOf(r), 'NOT_FOUND', `${name}: ${JSON.stringify(r)}`);
        }
        const resolve = await gql(t, `mutation($id: ID!) { resolveAppeal(appealId: $id, outcome: upheld) { position } }`, { id: victim.appealId });
        const reviewer = attacker.roles.includes('admin') || attacker.roles.includes('compliance');
        assert.equal(codeOf(resolve), reviewer ? 'NOT_FOUND' : 'FORBIDDEN', JSON.stringify(resolve));
        const erase = await gql(t, `mutation { eraseUserData(userId: "twin", tenantId: "acme") }`);
        assert.equal(codeOf(erase), 'FORBIDDEN', JSON.stringify(erase));
      });

      it('reads and removes nothing of acme\'s knowledge: memories, documents, search (NOT_FOUND, never FORBIDDEN)', async () => {
        const read = await gql(t, `{ memories { id text } documents(collection: "kb") { id } searchDocuments(collections: ["kb"], query: "zebra") { documentId text } }`);
        assert.equal(read.errors, undefined, JSON.stringify(read.errors));
        assert.ok(!JSON.stringify(read.data).includes(CANARY), JSON.stringify(read.data));
        assert.deepEqual(read.data.documents, []);
        assert.deepEqual(read.data.searchDocuments, []);
        const forget = await gql(t, `mutation($id: ID!) { forgetFact(id: $id) { position } }`, { id: knowledge.memoryId });
        assert.equal(codeOf(forget), 'NOT_FOUND', JSON.stringify(forget));
        for (const id of [knowledge.sharedDocId, knowledge.privateDocId]) {
          const removed = await gql(t, `mutation($id: ID!) { removeDocument(id: $id) { position } }`, { id });
          assert.equal(codeOf(removed), 'NOT_FOUND', JSON.stringify(removed));
        }
        const mine = await gql(victim.token, `{ memories { id } documents(collection: "kb") { id } }`);
        assert.equal(mine.data.memories.length, 1);
        assert.equal(mine.data.documents.length, 2);
      });

      it('cannot stream acme generations on either SSE endpoint', async () => {
        // graphql-sse's distinct mode reports an error before the first result as HTTP 400 (its
        // code is lost there, a known limitation of the protocol's server); either way, no text.
        await assert.rejects(streamChunks(server.url, t, victim.generationId), /NOT_FOUND|responded with 400/);
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t}` },
          body: JSON.stringify({ query: `subscription($id: ID!) { generationStream(id: $id) { delta done } }`, variables: { id: victim.generationId } }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = await res.text();
        assert.match(body, /NOT_FOUND/);
        assert.ok(!body.includes('"delta"'), body);
      });

      it('gets nothing of acme from the OpenAI endpoint', async () => {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: t, maxRetries: 0 });
        await assert.rejects(
          client.chat.completions.create({ model: 'parley-tiny', max_tokens: 4, messages: [{ role: 'user', content: 'continue' }] },
            { headers: { 'X-Parley-Conversation': victim.conversationId } }),
          (e: any) => e.status === 404,
        );
      });

      it('reads no acme audit rows or log events; naming acme is FORBIDDEN', async () => {
        if (attacker.roles.includes('compliance')) {
          const log = await gql(t, `{ auditLog(first: 500) { edges { node { tenantId userId } } } }`);
          assert.ok(log.data.auditLog.edges.length > 0, 'own tenant rows are readable');
          for (const e of log.data.auditLog.edges) assert.equal(e.node.tenantId, 'evil');
          assert.equal(codeOf(await gql(t, `{ auditLog(filter: {tenantId: "acme"}) { edges { node { eventId } } } }`)), 'FORBIDDEN');
          const exp = await fetch(`${server.url}/v1/audit/export?tenantId=acme`, { headers: { authorization: `Bearer ${t}` } });
          assert.equal(exp.status, 403);
          const all = await (await fetch(`${server.url}/v1/audit/export`, { headers: { authorization: `Bearer ${t}` } })).text();
          assert.ok(all.length > 0 && !all.includes('"acme"'), all.slice(0, 300));
        } else {
          assert.equal(codeOf(await gql(t, `{ auditLog { edges { node { eventId } } } }`)), 'FORBIDDEN');
          assert.equal((await fetch(`${server.url}/v1/audit/export`, { headers: { authorization: `Bearer ${t}` } })).status, 403);
        }
        if (attacker.roles.includes('data_scientist')) {
          const page = await gql(t, `{ events(first: 1000) { edges { node { streamId data } } } }`);
          const text = JSON.stringify(page.data.events);
          assert.ok(page.data.events.edges.length > 0, 'own tenant events are readable');
          assert.ok(!text.includes(CANARY) && !text.includes(victim.conversationId) && !text.includes('"acme"'), text.slice(0, 300));
          const nd = await (await fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${t}` } })).text();
          assert.ok(nd.length > 0 && !nd.includes(CANARY) && !nd.includes(victim.conversationId) && !nd.includes('"acme"'));
          const followed = await firstEvents(server.url, t, 5);
          assert.equal(followed.length, 5);
          for (const e of followed) assert.ok(!JSON.stringify(e).includes('"acme"'), JSON.stringify(e));
        } else {
          assert.equal(codeOf(await gql(t, `{ events { edges { cursor } } }`)), 'FORBIDDEN');
          assert.equal((await fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${t}` } })).status, 403);
        }
      });

      it('subject-access exports, the appeal queue and the console\'s aggregates hold nothing of acme; naming acme is FORBIDDEN', async () => {
        const auth = { headers: { authorization: `Bearer ${t}` } };
        // "alice" is the attacker's own tenant's alice (or nobody there), never acme's.
        const exp = await gql(t, `mutation { exportUserData(userId: "alice") { tenantId jsonl } }`);
        if (exp.data?.exportUserData) {
          assert.equal(exp.data.exportUserData.tenantId, 'evil');
          assert.ok(!exp.data.exportUserData.jsonl.includes(CANARY) && !exp.data.exportUserData.jsonl.includes(victim.conversationId));
        } else {
          assert.ok(['FORBIDDEN', 'NOT_FOUND'].includes(codeOf(exp)!), JSON.stringify(exp.errors));
        }
        assert.equal(codeOf(await gql(t, `mutation { exportUserData(userId: "alice", tenantId: "acme") { jsonl } }`)), 'FORBIDDEN');
        const http = await fetch(`${server.url}/v1/users/alice/export`, auth);
        const body = await http.text();
        assert.ok([200, 403, 404].includes(http.status));
        assert.ok(!body.includes(CANARY) && !body.includes(victim.conversationId));
        assert.equal((await fetch(`${server.url}/v1/users/alice/export?tenantId=acme`, auth)).status, 403);

        if (attacker.roles.includes('compliance') || attacker.roles.includes('admin')) {
          const appeals = JSON.stringify((await gql(t, `{ appeals(status: null) { edges { node { id tenantId reason } } } }`)).data.appeals);
          assert.ok(!appeals.includes(victim.appealId) && !appeals.includes('"acme"') && !appeals.includes('plumbing'), appeals);
          const stats = await gql(t, `{ complianceStats { blockRatePerTenant { tenantId } tokensPerDayPerTenant { tenantId } } }`);
          assert.equal(stats.errors, undefined, JSON.stringify(stats.errors));
          assert.ok(!JSON.stringify(stats.data).includes('"acme"'), JSON.stringify(stats.data));
        } else {
          assert.equal(codeOf(await gql(t, `{ appeals { edges { node { id } } } }`)), 'FORBIDDEN');
          assert.equal(codeOf(await gql(t, `{ complianceStats { blockRatePerTenant { tenantId } } }`)), 'FORBIDDEN');
        }
      });
    });
  }

  it('erasing "twin" or "alice" from another tenant erases that tenant\'s user, never acme\'s', async () => {
    const sameId = await server.token(evil('alice'));
    const r1 = await gql(sameId, `mutation { eraseUserData(userId: "alice") }`);
    assert.equal(r1.errors, undefined, JSON.stringify(r1.errors)); // alice@evil erases herself
    const adminEvil = await server.token(evil('mallory', 'admin'));
    const r2 = await gql(adminEvil, `mutation { eraseUserData(userId: "twin") }`);
    assert.equal(r2.errors, undefined, JSON.stringify(r2.errors)); // twin@evil, who never wrote anything

    const mine = await gql(victim.token, `query($id: ID!) { conversation(id: $id) { title messages { content } } }`, { id: victim.conversationId });
    assert.equal(mine.data.conversation.title, "alice's plans");
    assert.ok(mine.data.conversation.messages.some((m: any) => m.content.includes(CANARY)), 'acme alice still reads her text');
    assert.equal(mine.data.conversation.messages.filter((m: any) => m.content === 'injected').length, 0);
    const twin = await gql(twinToken, `query($id: ID!) { conversation(id: $id) { messages { content } } }`, { id: twinConversationId });
    assert.equal(twin.data.conversation.messages[0].content, 'twin was here');
    // acme alice can still write: her keys were not destroyed.
    const again = await gql(victim.token, `mutation($id: ID!) { sendMessage(input: {conversationId: $id, content: "still here"}) { position } }`, { id: victim.conversationId });
    assert.equal(again.errors, undefined, JSON.stringify(again.errors));
  });

  it('inside acme the same calls work: admin, compliance, data_scientist, and a platform operator across tenants', async () => {
    const adminAcme = await server.token(acme('root', 'admin'));
    const read = await gql(adminAcme, `query($id: ID!, $p: String) { conversation(id: $id, consistentWith: $p) { title } }`, { id: victim.conversationId, p: victim.position });
    assert.equal(read.data.conversation.title, "alice's plans");
    const complianceAcme = await server.token(acme('carol', 'compliance'));
    const log = await gql(complianceAcme, `{ auditLog(filter: {tenantId: "acme"}) { edges { node { tenantId } } } }`);
    assert.ok(log.data.auditLog.edges.length > 0 && log.data.auditLog.edges.every((e: any) => e.node.tenantId === 'acme'));
    const queue = await gql(complianceAcme, `{ appeals { edges { node { id reason } } } }`);
    assert.deepEqual(queue.data.appeals.edges.map((e: any) => e.node), [{ id: victim.appealId, reason: 'it was about plumbing' }]);
    const stats = await gql(complianceAcme, `{ complianceStats { blockRatePerTenant { tenantId blocked } } }`);
    assert.deepEqual(stats.data.complianceStats.blockRatePerTenant, [{ tenantId: 'acme', blocked: 1 }]);
    const exported = await gql(adminAcme, `mutation { exportUserData(userId: "alice") { jsonl } }`);
    assert.ok(exported.data.exportUserData.jsonl.includes(CANARY), 'an acme admin exports acme alice');
    const dsAcme = await server.token(acme('dora', 'data_scientist'));
    const events = JSON.stringify((await gql(dsAcme, `{ events(first: 1000) { edges { node { data } } } }`)).data.events);
    assert.ok(events.includes(CANARY), 'acme data scientists read acme content');
    assert.ok(!events.includes('hello from evil'));

    // A platform operator is the only cross-tenant role, and only as a modifier of another role.
    const operator = await server.token(evil('ops', 'admin', 'platform_operator'));
    const crossed = await gql(operator, `query($id: ID!) { conversation(id: $id) { title } }`, { id: victim.conversationId });
    assert.equal(crossed.data.conversation.title, "alice's plans");
    const bare = await server.token(evil('ops', 'platform_operator'));
    assert.equal((await gql(bare, `query($id: ID!) { conversation(id: $id) { title } }`, { id: victim.conversationId })).data.conversation, null);
  });
});

// The first `n` events of the eventAppended subscription from the start of the log (graphql-sse).
async function firstEvents(url: string, token: string, n: number): Promise<unknown[]> {
  const client = createClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const out: unknown[] = [];
  try {
    const it = client.iterate<{ eventAppended: unknown }>({ query: `subscription { eventAppended { streamId data metadata } }` });
    for await (const r of it) {
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      out.push(r.data!.eventAppended);
      if (out.length >= n) break;
    }
  } finally {
    client.dispose();
  }
  return out;
}
