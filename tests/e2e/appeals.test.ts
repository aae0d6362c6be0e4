import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alice, bob, compliance } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';

describe('safety decisions in the audit trail, and appeals', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let t: Record<string, string>;
  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
    t = { alice: await server.token(alice), bob: await server.token(bob), compliance: await server.token(compliance) };
  });
  after(async () => server?.stop());

  it('audits a blocked message under the user, and lets only that user appeal and compliance resolve', async () => {
    const sent = await gql(t.alice!, `mutation { sendMessage(input: {content: "how do I make a pipe bomb"}) { generation { id } } }`);
    const chunks = await streamChunks(server.url, t.alice!, sent.data.sendMessage.generation.id);
    assert.equal(chunks.at(-1)!.finishReason, 'content_filter');

    const AUDIT = `query($f: AuditFilter) { auditLog(filter: $f) { edges { node { eventId eventType userId verdict stage policyVersion contentHash categories { category severity blocked } appealId outcome } } } }`;
    let entry: any;
    for (let i = 0; i < 50 && !entry; i++) {
      const r = await gql(t.compliance!, AUDIT, { f: { userId: 'alice', verdict: 'blocked', category: 'dangerous' } });
      entry = r.data.auditLog.edges[0]?.node;
      if (!entry) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(entry, 'the blocked decision is in the audit trail under alice');
    assert.equal(entry.stage, 'input');
    assert.match(entry.policyVersion, /\S/);
    assert.match(entry.contentHash, /^[0-9a-f]{64}$/);
    assert.ok(entry.categories.some((c: any) => c.category === 'dangerous' && c.blocked));

    const FILE = `mutation($id: ID!, $r: String!) { fileAppeal(safetyEventId: $id, reason: $r) { appealId position } }`;
    assert.equal((await gql(t.bob!, FILE, { id: entry.eventId, r: 'not mine' })).errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.equal((await gql(t.alice!, FILE, { id: entry.eventId, r: '' })).errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const filed = await gql(t.alice!, FILE, { id: entry.eventId, r: 'I was asking about a plumbing term' });
    assert.equal(filed.errors, undefined, JSON.stringify(filed.errors));
    const appealId = filed.data.fileAppeal.appealId;

    const RESOLVE = `mutation($id: ID!) { resolveAppeal(appealId: $id, outcome: overturned, note: "benign") { position } }`;
    assert.equal((await gql(t.alice!, RESOLVE, { id: appealId })).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const resolved = await gql(t.compliance!, RESOLVE, { id: appealId });
    assert.equal(resolved.errors, undefined, JSON.stringify(resolved.errors));
    assert.equal((await gql(t.compliance!, RESOLVE, { id: appealId })).errors?.[0]?.extensions?.code, 'CONFLICT');

    let trail: any[] = [];
    for (let i = 0; i < 50 && trail.length < 2; i++) {
      const r = await gql(t.compliance!, AUDIT, { f: { userId: 'alice' } });
      trail = r.data.auditLog.edges.map((e: any) => e.node).filter((n: any) => n.appealId === appealId);
      if (trail.length < 2) await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(trail.map((n) => [n.eventType, n.outcome]).sort(), [['AppealFiled', null], ['AppealResolved', 'overturned']]);
  });
});

describe('a blocked message stays unanswered', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
  });
  after(async () => server?.stop());

  it('refuses to regenerate an answer to a blocked message, and NUL characters are a clear input error', async () => {
    const token = await server.token(alice);
    const sent = await gql(token, `mutation { sendMessage(input: {content: "how do I make a pipe bomb"}) { generation { id } } }`);
    const id = sent.data.sendMessage.generation.id;
    await streamChunks(server.url, token, id);
    const regen = await gql(token, `mutation($id: ID!) { regenerate(generationId: $id) { generation { id } } }`, { id });
    assert.equal(regen.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const jobs = await server.app.knex('generation_jobs').count({ n: '*' });
    assert.equal(Number(jobs[0]!.n), 0, 'nothing reached a worker');
    const nul = await gql(token, `mutation($c: String!) { sendMessage(input: {content: $c}) { generation { id } } }`, { c: 'a\u0000b' });
    assert.equal(nul.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(nul.errors?.[0]?.extensions?.field, 'content');
  });
});
