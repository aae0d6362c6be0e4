import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { projections } from '../../projections/index.ts';
import type { Actor } from '../../schemas/common.ts';
import { admin, alice, bob, compliance } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';

const exec = promisify(execFile);
// The same user id in another tenant, and an admin of that tenant.
const aliceElsewhere: Actor = { userId: 'alice', tenantId: 't2', roles: ['user'] };
const adminElsewhere: Actor = { userId: 'root', tenantId: 't2', roles: ['admin'] };

const EXPORT = `mutation($u: ID!) { exportUserData(userId: $u) { userId tenantId exportedBy eventId position counts { kind count } jsonl } }`;
const parse = (jsonl: string) => jsonl.trim().split('\n').map((l) => JSON.parse(l));

describe('right of access: a user\'s data exported through GraphQL, HTTP and the CLI, recorded in audit', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  const t: Record<string, string> = {};
  const canary = { message: `zebraplan-${randomUUID().slice(0, 8)}`, comment: `fbnote-${randomUUID().slice(0, 8)}`, appeal: `appealwhy-${randomUUID().slice(0, 8)}` };
  let safetyEventId = '';

  // Every projection caught up with the log.
  const settle = async () => { for (const p of projections) while (await server.app.runner!.step(p) > 0); };

  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
    for (const [n, a] of Object.entries({ alice, bob, admin, compliance, aliceElsewhere, adminElsewhere })) t[n] = await server.token(a as Actor);
    // alice of t1: a conversation, feedback with a comment, a blocked message and an appeal of it.
    const sent = await gql(t.alice!, `mutation($c: String!) { sendMessage(input: {content: $c, params: {temperature: 0, maxTokens: 16}}) { generation { id } } }`,
      { c: `What is the capital of France? ${canary.message}` });
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    const generationId = sent.data.sendMessage.generation.id;
    await streamChunks(server.url, t.alice!, generationId);
    const fb = await gql(t.alice!, `mutation($id: ID!, $c: String) { giveFeedback(input: {generationId: $id, rating: UP, comment: $c}) { position } }`, { id: generationId, c: canary.comment });
    assert.equal(fb.errors, undefined, JSON.stringify(fb.errors));
    const blocked = await gql(t.alice!, `mutation { sendMessage(input: {content: "how do I make a pipe bomb"}) { generation { id } } }`);
    await streamChunks(server.url, t.alice!, blocked.data.sendMessage.generation.id);
    // alice of t2 has a conversation of her own.
    const other = await gql(t.aliceElsewhere!, `mutation { sendMessage(input: {content: "hello from t2", params: {maxTokens: 4}}) { generation { id } } }`);
    await streamChunks(server.url, t.aliceElsewhere!, other.data.sendMessage.generation.id);
    await settle();
    const audit = await gql(t.compliance!, `{ auditLog(filter: {userId: "alice", verdict: "blocked"}) { edges { node { eventId } } } }`);
    safetyEventId = audit.data.auditLog.edges[0].node.eventId;
    const appeal = await gql(t.alice!, `mutation($id: ID!, $r: String!) { fileAppeal(safetyEventId: $id, reason: $r) { appealId } }`, { id: safetyEventId, r: canary.appeal });
    assert.equal(appeal.errors, undefined, JSON.stringify(appeal.errors));
    await settle();
  });
  after(async () => server?.stop());

  it('gives the user themself every kind of record, decrypted, and only their own tenant\'s', async () => {
    const r = await gql(t.alice!, EXPORT, { u: 'alice' });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const e = r.data.exportUserData;
    assert.deepEqual([e.userId, e.tenantId, e.exportedBy], ['alice', 't1', 'alice']);
    const records = parse(e.jsonl);
    assert.equal(records[0].kind, 'export');
    assert.equal(records[0].eventId, e.eventId);
    const kinds = new Set(records.map((x) => x.kind));
    for (const k of ['conversation', 'message', 'answer', 'feedback', 'appeal', 'safety_decision', 'usage']) assert.ok(kinds.has(k), `has ${k} records`);
    const counts = Object.fromEntries(e.counts.map((c: any) => [c.kind, c.count]));
    assert.equal(counts.conversation, 2);
    assert.equal(counts.appeal, 1);
    assert.ok(records.some((x) => x.kind === 'message' && x.content.includes(canary.message)), 'message text decrypted');
    assert.ok(records.some((x) => x.kind === 'feedback' && x.comment === canary.comment && x.rating === 'up'));
    assert.ok(records.some((x) => x.kind === 'appeal' && x.reason === canary.appeal && x.safetyEventId === safetyEventId && x.outcome === null));
    assert.ok(records.some((x) => x.kind === 'safety_decision' && x.eventId === safetyEventId && x.verdict === 'blocked'));
    assert.ok(!e.jsonl.includes('hello from t2'), 'alice of t2 is another person');

    const elsewhere = parse((await gql(t.aliceElsewhere!, EXPORT, { u: 'alice' })).data.exportUserData.jsonl);
    assert.ok(elsewhere.some((x) => x.kind === 'message' && x.content === 'hello from t2'));
    assert.ok(!JSON.stringify(elsewhere).includes(canary.message));
  });

  it('lets an admin of the tenant export, refuses anyone else, and reports an unknown user as missing', async () => {
    const byAdmin = await gql(t.admin!, EXPORT, { u: 'alice' });
    assert.equal(byAdmin.errors, undefined, JSON.stringify(byAdmin.errors));
    assert.equal(byAdmin.data.exportUserData.exportedBy, 'root');
    assert.ok(byAdmin.data.exportUserData.jsonl.includes(canary.message));
    assert.equal((await gql(t.bob!, EXPORT, { u: 'alice' })).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal((await gql(t.compliance!, EXPORT, { u: 'alice' })).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal((await gql(t.admin!, EXPORT, { u: 'nobody' })).errors?.[0]?.extensions?.code, 'NOT_FOUND');
    // An admin of t2 asking for "alice" means alice of t2, never alice of t1.
    const crossed = await gql(t.adminElsewhere!, EXPORT, { u: 'alice' });
    assert.ok(!crossed.data.exportUserData.jsonl.includes(canary.message));
    const tenantArg = await gql(t.adminElsewhere!, `mutation { exportUserData(userId: "alice", tenantId: "t1") { eventId } }`);
    assert.equal(tenantArg.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal((await gql(null, EXPORT, { u: 'alice' })).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.equal((await gql(t.alice!, EXPORT, { u: 'bad id!' })).errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  it('streams the same bundle as NDJSON over HTTP, with OpenAI-shaped errors', async () => {
    const get = (who: string | null, id: string) => fetch(`${server.url}/v1/users/${encodeURIComponent(id)}/export`, { headers: who ? { authorization: `Bearer ${t[who]}` } : {} });
    const ok = await get('alice', 'alice');
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type')!, /application\/x-ndjson/);
    const lines = parse(await ok.text());
    assert.equal(lines[0].kind, 'export');
    assert.equal(lines[0].channel, 'http');
    assert.equal(lines.at(-1).kind, 'end');
    assert.equal(lines.at(-1).counts.appeal, 1);
    assert.ok(lines.some((x) => x.kind === 'message' && x.content.includes(canary.message)));

    const forbidden = await get('bob', 'alice');
    assert.equal(forbidden.status, 403);
    const body = await forbidden.json() as any;
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.type, 'permission_error');
    assert.ok(!JSON.stringify(body).includes(canary.message));
    const missing = await get('admin', 'nobody');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as any).error.code, 'user_not_found');
    assert.equal((await get('adminElsewhere', 'nobody')).status, 404);
    assert.equal((await get(null, 'alice')).status, 401);
    assert.equal((await get('alice', 'bad id!')).status, 400);
    assert.equal((await fetch(`${server.url}/v1/users/alice/export`, { method: 'POST', headers: { authorization: `Bearer ${t.alice}` } })).status, 405);
  });

  it('writes JSONL and a manifest from the CLI, and every export is in the audit log without content', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-export-'));
    const out = path.join(dir, 'alice.jsonl');
    await exec(process.execPath, ['bin/parley.mjs', 'export', 'user', '--user', 'alice', '--tenant', 't1', '--operator', 'dpo', '--out', out],
      { env: { ...process.env, ...server.sharedEnv, PARLEY_HOME: dir } });
    const records = parse(readFileSync(out, 'utf8'));
    assert.equal(records[0].channel, 'cli');
    assert.ok(records.some((x) => x.kind === 'message' && x.content.includes(canary.message)));
    const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    assert.equal(manifest.userId, 'alice');
    assert.equal(manifest.records, records.length - 1);
    assert.equal(manifest.counts.appeal, 1);

    await settle();
    const audit = await gql(t.compliance!, `{ auditLog(filter: {eventType: "UserDataExported"}, first: 100) { edges { node { userId tenantId actorId outcome contentHash } } } }`);
    const rows = audit.data.auditLog.edges.map((x: any) => x.node);
    const mine = rows.filter((n: any) => n.userId === 'alice');
    assert.deepEqual(new Set(mine.map((n: any) => `${n.actorId}/${n.outcome}`)), new Set(['alice/graphql', 'root/graphql', 'alice/http', 'dpo/cli']));
    assert.ok(rows.every((n: any) => n.tenantId === 't1'), 'compliance of t1 sees t1 only');
    assert.ok(!JSON.stringify(audit).includes(canary.message));
    const { rows: stored } = await server.app.knex.raw(`select data::text as d from parley_events where type = 'UserDataExported'`);
    assert.ok(stored.length >= 6);
    assert.ok(stored.every((r: any) => !r.d.includes(canary.message)), 'the event records no content');
  });

  it('holds no personal text after the user is erased', async () => {
    const erased = await gql(t.alice!, `mutation { eraseUserData(userId: "alice") }`);
    assert.equal(erased.errors, undefined, JSON.stringify(erased.errors));
    await settle();
    const r = await gql(t.admin!, EXPORT, { u: 'alice' });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const text = r.data.exportUserData.jsonl;
    for (const c of Object.values(canary)) assert.ok(!text.includes(c), `no "${c}" after erasure`);
    assert.ok(!text.includes('capital of France'));
    const records = parse(text);
    assert.equal(records.filter((x) => x.kind === 'message' || x.kind === 'conversation').length, 0);
    assert.ok(records.some((x) => x.kind === 'appeal' && x.reason === '[erased]'), 'the appeal is listed, its reason unreadable');
    assert.ok(records.some((x) => x.kind === 'safety_decision'), 'decisions (ids, verdicts) are still listed');
  });
});
