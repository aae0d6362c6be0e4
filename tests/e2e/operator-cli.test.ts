import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { projections } from '../../projections/index.ts';
import type { Actor } from '../../schemas/common.ts';
import { alice, compliance } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';

const exec = promisify(execFile);
const dave: Actor = { userId: 'dave', tenantId: 't2', roles: ['user'] };

describe('the operator CLI: tokens with a tier, erasure, audit export', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let dir = '';
  const parley = (...args: string[]) => exec(process.execPath, ['bin/parley.mjs', ...args], { env: { ...process.env, ...server.sharedEnv, PARLEY_HOME: dir } });
  const failure = async (...args: string[]) => {
    const e = await parley(...args).then(() => null, (error: { code: number; stderr: string }) => error);
    assert.ok(e, `parley ${args.join(' ')} fails`);
    assert.equal(e.code, 1);
    return e.stderr;
  };
  const settle = async () => { for (const p of projections) while (await server.app.runner!.step(p) > 0); };
  const SEND = `mutation { sendMessage(input: {content: "What is the capital of France?", params: {maxTokens: 4}}) { generation { id } } }`;

  before(async () => {
    // One request a minute on the free tier; paid keeps its default.
    server = await startTestServer({ env: { PARLEY_TIERS: JSON.stringify({ free: { user: { rpm: 1 } } }) } });
    gql = graphqlClient(server.url);
    dir = mkdtempSync(path.join(os.tmpdir(), 'parley-cli-'));
    for (const who of [alice, dave]) {
      const r = await gql(await server.token(who), SEND);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      await streamChunks(server.url, await server.token(who), r.data.sendMessage.generation.id);
    }
    await settle();
  });
  after(async () => server?.stop());

  it('makes tokens whose tier claim the quotas follow, and refuses an unknown tier', async () => {
    const token = async (user: string, tier?: string) => (await parley('token', '--user', user, '--tenant', 't9', ...(tier ? ['--tier', tier] : []))).stdout.trim();
    const free = await token('freeuser');
    const paid = await token('paiduser', 'paid');
    assert.equal(decodeJwt(free).tier, 'free');
    assert.equal(decodeJwt(paid).tier, 'paid');
    assert.equal(decodeJwt(await token('p', 'premium')).tier, 'premium');
    assert.equal((await gql(free, SEND)).errors, undefined);
    const second = await gql(free, SEND);
    assert.equal(second.errors?.[0]?.extensions?.code, 'RATE_LIMITED', 'free: one request a minute');
    for (let i = 0; i < 2; i++) assert.equal((await gql(paid, SEND)).errors, undefined, 'paid: its own limits');
    assert.match(await failure('token', '--user', 'x', '--tier', 'gold'), /--tier must be one of free, paid, premium/);
  });

  it('erases a user of a tenant, recorded under the operator, and refuses an unknown user', async () => {
    const { stdout } = await parley('erase', '--user', 'alice', '--tenant', 't1', '--operator', 'dpo');
    assert.match(stdout, /erased t1\/alice/);
    await settle();
    const aliceToken = await server.token(alice);
    const list = await gql(aliceToken, `{ conversations { edges { node { id } } } }`);
    assert.equal(list.data.conversations.edges.length, 0, 'her history is gone');
    const audit = await gql(await server.token(compliance), `{ auditLog(filter: {eventType: "UserDataErased"}) { edges { node { userId actorId outcome } } } }`);
    assert.deepEqual(audit.data.auditLog.edges.map((e: any) => e.node), [{ userId: 'alice', actorId: 'dpo', outcome: 'admin_request' }]);
    // dave of t2 is untouched.
    const daveList = await gql(await server.token(dave), `{ conversations { edges { node { id } } } }`);
    assert.equal(daveList.data.conversations.edges.length, 1);
    assert.match(await failure('erase', '--user', 'nobody', '--tenant', 't1'), /no user "nobody" in tenant "t1"/);
    assert.match(await failure('erase', '--user', 'alice', '--tenant', 't1'), /already erased/);
  });

  it('exports the audit log as CSV or JSONL, every tenant or one, within a time range', async () => {
    await settle();
    const out = path.join(dir, 'audit.csv');
    await parley('audit', 'export', '--format', 'csv', '--out', out);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'occurredAt,eventId,eventType,userId,tenantId,actorId,stage,verdict,categories,policyVersion,degraded,correlationId,conversationId,generationId,appealId,outcome,contentHash,position,toolName,latencyMs,sources');
    const tenants = new Set(lines.slice(1).map((l) => l.split(',')[4]));
    assert.ok(tenants.has('t1') && tenants.has('t2'), 'every tenant');
    const total = Number((await server.app.knex('audit_log').count({ n: '*' }))[0]!.n);
    assert.equal(lines.length - 1, total);

    const t2 = path.join(dir, 't2.jsonl');
    await parley('audit', 'export', '--format', 'jsonl', '--tenant', 't2', '--out', t2);
    const rows = readFileSync(t2, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(rows.length > 0 && rows.every((r) => r.tenantId === 't2'));
    const times = rows.map((r) => r.occurredAt);
    assert.deepEqual(times, [...times].sort(), 'oldest first');

    const future = path.join(dir, 'future.jsonl');
    await parley('audit', 'export', '--from', '2999-01-01', '--out', future);
    assert.equal(readFileSync(future, 'utf8'), '');
    const past = path.join(dir, 'past.jsonl');
    await parley('audit', 'export', '--to', '2000-01-01', '--out', past);
    assert.equal(readFileSync(past, 'utf8'), '');
    assert.match(await failure('audit', 'export', '--from', '2024-13-01', '--out', future), /--from/);
    assert.match(await failure('audit', 'export', '--format', 'xml', '--out', future), /--format/);
  });

  it('refuses an --out it cannot write with one line, before recording an export', async () => {
    const bad = path.join(dir, 'no-such-dir', 'out.jsonl');
    for (const args of [
      ['export', 'rlhf', '--format', 'trl', '--out', bad],
      ['export', 'user', '--user', 'dave', '--tenant', 't2', '--out', bad],
      ['audit', 'export', '--out', bad],
      ['replay', '--out', bad],
    ]) {
      const stderr = await failure(...args);
      assert.equal(stderr.trim(), `cannot write ${bad}: ENOENT: no such file or directory, open '${bad}'`, args.join(' '));
    }
    const exported = await server.app.knex('parley_events').where({ type: 'UserDataExported' }).count({ n: '*' });
    assert.equal(Number(exported[0]!.n), 0, 'no UserDataExported for an export that wrote nothing');
  });
});
