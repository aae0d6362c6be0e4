import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { loadModel } from '../../inference/engine/model.ts';
import { JobQueue } from '../../inference/worker/job-queue.ts';
import type { Actor } from '../../schemas/common.ts';
import { REDIS_URL, requireRedis } from '../support/redis.ts';
import { startRoleProcess, type RoleProcess } from '../support/processes.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// kill -9 of a WORKER process between a server-side tool call and its continuation: the saga has run
// the call (ToolCallRequested + ToolCallCompleted) and requested the continuation `<g>.t1`; a worker
// process claims it and is killed while it holds the job. Another worker process claims it when the
// lease runs out, and the turn completes exactly once: one call, one outcome, one continuation
// completed, no second round, one job.
//
// The shipped model never chooses a tool, so the first answer's completion (holding a <tool_call>)
// is appended by the test as a worker would append it (as tests/e2e/crash-tool-round.test.ts does);
// the continuation is a real worker's. To kill the first worker while it holds the job — whatever
// its speed — the test holds the continuation stream's row lock (parley_streams), so the worker's
// first append waits; its backend may still land that append after the kill (a dead worker's write
// in flight), which the retry's newer attempt supersedes.
describe('kill -9 of a worker between a tool call and its continuation', () => {
  let api: TestServer;
  const workers: RoleProcess[] = [];
  let lock: pg.Client | null = null;
  after(async () => {
    await lock?.query('rollback').catch(() => undefined);
    await lock?.end().catch(() => undefined);
    for (const w of workers) await w.stop();
    await api?.stop();
  });

  it('the turn completes once: one call, one outcome, one continuation completed by the second worker', async () => {
    await requireRedis();
    const env = { PARLEY_TOOLS: 'on', PARLEY_TOOL_SELECTION: 'all', PARLEY_QUOTAS: 'off', PARLEY_LEASE_MS: '3000', REDIS_URL };
    api = await startTestServer({ roles: ['api', 'projector', 'saga'], env });
    const workerEnv = { ...api.sharedEnv, ...env };
    const gql = graphqlClient(api.url);
    const alice: Actor = { userId: 'alice', tenantId: 'acme', roles: ['user'] };
    const token = await api.token(alice);
    const events = async (id: string) => api.app.store.readStream(`generation-${id}`);
    const until = async (what: string, probe: () => Promise<boolean>) => {
      for (let i = 0; i < 2400; i++) { if (await probe()) return; await new Promise((r) => setTimeout(r, 50)); }
      throw new Error(`gave up waiting for ${what}`);
    };
    const r = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }`, { input: { content: 'what is 12*12?', params: { maxTokens: 48 } } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const g = r.data.sendMessage.generation.id as string;
    const t1 = `${g}.t1`;
    await until('the request', async () => (await events(g)).length > 0);
    await until('its job', async () => Boolean(await api.app.knex('generation_jobs').where({ generation_id: g }).first()));

    // The first answer, as a worker makes it: claim the job, append the text with the call, complete, finish the job.
    const jobs = new JobQueue(api.app.knex, 3000);
    const [claimed] = await jobs.claim('test-worker', 1);
    assert.equal(claimed?.generationId, g);
    const text = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "12*12"}}\n</tool_call>';
    const tokenIds = loadModel().tokenizer.encode(text);
    const asWorker: Actor = { userId: 'test-worker', tenantId: 'system', roles: ['admin', 'platform_operator'] };
    const done = await api.app.commands.executeAll([
      { type: 'AppendTokens', data: { generationId: g, attempt: 1, firstIndex: 0, tokenIds, text }, metadata: { commandId: 'w1', actor: asWorker } },
      { type: 'CompleteGeneration', data: { generationId: g, attempt: 1, finishReason: 'stop', usage: { promptTokens: 1, completionTokens: tokenIds.length }, ttftMs: 1, tpotMs: 1, workerId: 'test-worker' }, metadata: { commandId: 'w2', actor: asWorker } },
    ]);
    assert.ok(done.ok);
    await jobs.finishMany('test-worker', [{ generationId: g, attempt: 1, status: 'done' }]);

    // The saga runs the call and requests the continuation.
    await until('the continuation request and its job', async () => (await events(t1)).length > 0 && Boolean(await api.app.knex('generation_jobs').where({ generation_id: t1 }).first()));
    assert.deepEqual((await events(g)).map((e) => e.type).filter((t) => t.startsWith('ToolCall')), ['ToolCallRequested', 'ToolCallCompleted']);

    // Hold the continuation stream's row: the first worker's first append waits on it.
    lock = new pg.Client({ connectionString: api.db.url });
    await lock.connect();
    await lock.query('begin');
    await lock.query(`select 1 from parley_streams where stream_id = $1 for update`, [`generation-${t1}`]);
    const first = await startRoleProcess('worker', workerEnv);
    workers.push(first);
    await until('the first worker to claim the continuation', async () => {
      const job = await api.app.knex('generation_jobs').where({ generation_id: t1 }).first();
      return job?.status === 'running' && String(job.worker_id).startsWith(`${first.child.pid}-`);
    });
    first.child.kill('SIGKILL');
    await new Promise((res) => (first.child.exitCode !== null || first.child.signalCode !== null ? res(null) : first.child.once('exit', res)));
    assert.equal((await events(t1)).filter((e) => e.type !== 'GenerationRequested').length, 0, 'killed before it appended anything');
    await lock.query('rollback');
    await lock.end();
    lock = null;

    // Another worker takes the job when the dead one's lease runs out.
    workers.push(await startRoleProcess('worker', workerEnv));
    await until('the continuation to complete', async () => (await events(t1)).some((e) => e.type === 'GenerationCompleted'));
    await until('its job to be done', async () => (await api.app.knex('generation_jobs').where({ generation_id: t1 }).first())?.status === 'done');

    const cont = await events(t1);
    assert.equal(cont.filter((e) => e.type === 'GenerationRequested').length, 1, 'one continuation');
    assert.equal(cont.filter((e) => e.type === 'GenerationCompleted').length, 1, 'completed once');
    assert.ok(!cont.some((e) => e.type === 'GenerationFailed' || e.type === 'GenerationCancelled'));
    const ids = cont.map((e) => e.metadata.eventId);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate events');
    const job = await api.app.knex('generation_jobs').where({ generation_id: t1 }).first();
    assert.equal(job.attempt, 2, 'the second worker ran it as the second attempt');
    const completed = cont.find((e) => e.type === 'GenerationCompleted')!;
    assert.ok(completed.type === 'GenerationCompleted' && completed.data.attempt === 2, 'completed by the retry');
    // the call ran once and the turn took no second round
    assert.deepEqual((await events(g)).map((e) => e.type).filter((t) => t.startsWith('ToolCall')), ['ToolCallRequested', 'ToolCallCompleted']);
    assert.equal((await events(`${g}.t2`)).length, 0, 'no second round');
    assert.equal((await api.app.knex('generation_jobs').whereIn('generation_id', [g, t1, `${g}.t2`])).length, 2, 'one job per generation');

    // What a user reads: the first answer's call, completed, and the turn's answer continuing it.
    const read = () => gql(token, `query($id: ID!) { generation(id: $id) { status continues } first: generation(id: "${g}") { toolCalls { name status result } } }`, { id: t1 });
    await until('history to show the turn', async () => (await read()).data?.generation?.status === 'completed');
    const h = await read();
    assert.equal(h.errors, undefined, JSON.stringify(h.errors));
    assert.equal(h.data.generation.continues, g);
    assert.deepEqual(h.data.first.toolCalls.map((c: { name: string; status: string }) => [c.name, c.status]), [['calculator', 'completed']]);
    assert.match(h.data.first.toolCalls[0].result, /"result":"144"/);
  });
});
