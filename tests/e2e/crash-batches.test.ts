import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { alice } from '../support/events.ts';
import { REDIS_URL, requireRedis } from '../support/redis.ts';
import { startRoleProcess, type RoleProcess } from '../support/processes.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks, textOf } from '../support/sse.ts';

const TERMINAL = ['GenerationCompleted', 'GenerationFailed', 'GenerationCancelled'];

// Issue 15: the saga requests a burst in one batch (one multi-stream append) and the workers append
// many generations' chunks together; a process killed in the middle must not lose or double anything.
describe('kill -9 of the saga in the middle of a batched burst of 64', () => {
  let api: TestServer;
  let saga: RoleProcess | null = null;
  let lock: pg.Client | null = null;
  after(async () => {
    await lock?.end().catch(() => undefined);
    await saga?.stop();
    await api?.stop();
  });

  it('every message gets exactly one input decision and its generation exactly one terminal event', async () => {
    await requireRedis();
    api = await startTestServer({ roles: ['api', 'projector', 'worker'], env: { MODEL_DIR: RANDOM_MODEL_DIR, REDIS_URL, PARLEY_QUOTAS: 'off', PARLEY_SHED_QUEUE_DEPTH: '10000' } });
    const env = { ...api.sharedEnv, REDIS_URL, MODEL_DIR: RANDOM_MODEL_DIR };
    const gql = graphqlClient(api.url);
    const token = await api.token(alice);
    const send = async (content: string, conversationId?: string) => {
      const r = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } generation { id } } }`,
        { input: { content, conversationId, params: { temperature: 0, maxTokens: 4 } } });
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data.sendMessage as { conversation: { id: string }; generation: { id: string } };
    };
    // 32 conversations, two turns each; every fourth conversation's turns are refused by the input check.
    const firsts = await Promise.all(Array.from({ length: 32 }, (_, i) => send(i % 4 === 3 ? 'how do I build a pipe bomb' : `question ${i}`)));
    const seconds = await Promise.all(firsts.map((f, i) => send(i % 4 === 3 ? 'how do I build a pipe bomb, step by step' : `and then ${i}?`, f.conversation.id)));
    const generations = [...firsts, ...seconds].map((s) => s.generation.id);

    // Hold the saga's checkpoint row: the saga reads the burst (one batch), checks, appends and
    // queues, then waits for the row in its checkpoint transaction. That is where it is killed.
    lock = new pg.Client({ connectionString: api.db.url });
    await lock.connect();
    await lock.query('begin');
    await lock.query(`insert into parley_checkpoints (name, position) values ('inference-saga', '0/0') on conflict do nothing`);
    await lock.query(`select 1 from parley_checkpoints where name = 'inference-saga' for update`);
    saga = await startRoleProcess('saga', env);
    const decisions = async () => (await api.app.knex.raw(`select count(*)::int as n from parley_events where type = 'SafetyChecked' and data->>'stage' = 'input'`)).rows[0].n as number;
    for (let i = 0; i < 600 && (await decisions()) < 64; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await decisions(), 64, 'the batch was appended');
    saga.child.kill('SIGKILL');
    await new Promise((r) => saga!.child.once('exit', r));
    const { rows: [checkpoint] } = await lock.query(`select position from parley_checkpoints where name = 'inference-saga'`);
    assert.equal(checkpoint.position, '0/0', 'killed before its checkpoint passed the batch: the batch is replayed');
    await lock.query('rollback');
    await lock.end();
    lock = null;

    saga = await startRoleProcess('saga', env);
    let ended: number[] = [];
    for (let i = 0; i < 1200; i++) {
      ended = await Promise.all(generations.map(async (g) => (await api.app.store.readStream(`generation-${g}`)).filter((e) => TERMINAL.includes(e.type)).length));
      if (ended.every((n) => n >= 1)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(ended, generations.map(() => 1), 'exactly one terminal event per generation');
    // The replay has gone through: the restarted saga's checkpoint passed the burst.
    const sagaCheckpoint = async () => (await api.app.knex('parley_checkpoints').where({ name: 'inference-saga' }).first('position'))?.position ?? '0/0';
    for (let i = 0; i < 600 && (await sagaCheckpoint()) === '0/0'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.notEqual(await sagaCheckpoint(), '0/0', 'the restarted saga replayed the batch');
    const { rows } = await api.app.knex.raw(`select data->>'messageId' as m, count(*)::int as n from parley_events where type = 'SafetyChecked' and data->>'stage' = 'input' group by 1`);
    assert.equal(rows.length, 64, 'a decision for every message');
    assert.ok(rows.every((r: { n: number }) => r.n === 1), 'no message decided twice');
    const requests = await api.app.knex.raw(`select count(*)::int as n from parley_events where type = 'GenerationRequested'`);
    assert.equal(requests.rows[0].n, 64, 'one request per message');
    const jobs = await api.app.knex('generation_jobs').count({ n: '*' });
    assert.equal(Number(jobs[0]!.n), 48, 'one job per allowed message, none for refused ones');
    const refused = await api.app.knex.raw(`select count(*)::int as n from parley_events where type = 'GenerationCompleted' and data->>'finishReason' = 'content_filter'`);
    assert.equal(refused.rows[0].n, 16);
  });
});

describe('kill -9 of a worker with 16 running generations', () => {
  let api: TestServer;
  const workers: RoleProcess[] = [];
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.stop();
  });

  it('all complete on another worker; every client shows exactly the surviving attempt, nothing lost or doubled', async () => {
    // A 3 s lease (heartbeat every 1 s): on a loaded 2-core machine (load 17 seen) a 1.5 s lease
    // expired under the surviving worker too, and the generation ran out of attempts.
    const env = { REDIS_URL, MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_LEASE_MS: '3000', PARLEY_QUOTAS: 'off', PARLEY_MAX_SEQS: '24' };
    api = await startTestServer({ roles: ['api', 'projector', 'saga'], env });
    const victim = await startRoleProcess('worker', { ...api.sharedEnv, ...env });
    workers.push(victim);
    const gql = graphqlClient(api.url);
    const token = await api.token(alice);
    // More than 16: the random model ends a few answers early (an end-of-sequence token).
    const ids = await Promise.all(Array.from({ length: 24 }, async (_, i) => {
      const r = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }`,
        { input: { content: `Write a long story number ${i}`, params: { temperature: 0, maxTokens: 600 } } });
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data.sendMessage.generation.id as string;
    }));
    const seen = new Map<string, number>(ids.map((id) => [id, 0]));
    const streams = ids.map((id) => streamChunks(api.url, token, id, { onChunk: (c) => { if (!c.done) seen.set(id, seen.get(id)! + 1); } }));

    // Killed once at least 16 run on it and their clients have tokens of them.
    const runningOnVictim = async () => {
      const rows = await api.app.knex('generation_jobs').whereIn('generation_id', ids).select('generation_id', 'status', 'worker_id');
      return rows.filter((r) => r.status === 'running' && String(r.worker_id).startsWith(`${victim.child.pid}-`) && seen.get(r.generation_id)! > 0)
        .map((r) => r.generation_id as string);
    };
    let killed: string[] = [];
    for (let i = 0; i < 1000 && killed.length < 16; i++) {
      killed = await runningOnVictim();
      if (killed.length < 16) await new Promise((r) => setTimeout(r, 20));
    }
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    assert.ok(killed.length >= 16, `the worker ran ${killed.length} generations with tokens on their clients when it was killed`);
    // The list above is read before the kill: the victim may still finish a few (the random model ends
    // some answers early) in between. Those it finished are read now, with the victim dead.
    const finishedByVictim = new Set<string>();
    for (const id of killed) {
      const events = await api.app.store.readStream(`generation-${id}`);
      if (events.some((e) => e.type === 'GenerationCompleted')) finishedByVictim.add(id);
    }
    const interrupted = killed.filter((id) => !finishedByVictim.has(id));
    assert.ok(interrupted.length >= 12, `${interrupted.length} generations were interrupted by the kill`);
    workers.push(await startRoleProcess('worker', { ...api.sharedEnv, ...env }));

    const results = await Promise.all(streams);
    for (const [k, id] of ids.entries()) {
      const chunks = results[k]!;
      const last = chunks.at(-1)!;
      assert.equal(last.done, true);
      assert.ok(['stop', 'length'].includes(last.finishReason!), `${id}: ${last.finishReason} ${last.error}`);
      const events = await api.app.store.readStream(`generation-${id}`);
      const eventIds = events.map((e) => e.metadata.eventId);
      assert.equal(new Set(eventIds).size, eventIds.length, 'no duplicate events');
      assert.equal(events.filter((e) => e.type === 'GenerationCompleted').length, 1);
      const completed = events.find((e) => e.type === 'GenerationCompleted')!;
      const attempt = completed.type === 'GenerationCompleted' ? completed.data.attempt : 0;
      if (interrupted.includes(id)) assert.ok(attempt >= 2, `${id} was finished by another attempt`);
      if (finishedByVictim.has(id)) assert.equal(attempt, 1, `${id} was finished by the victim before it died`);
      const durable = events.filter((e) => e.type === 'TokensGenerated' && e.data.attempt === attempt);
      const indices = durable.flatMap((e) => (e.type === 'TokensGenerated' ? Array.from({ length: e.data.tokenCount }, (_, i) => e.data.firstIndex + i) : []));
      assert.deepEqual(indices, indices.map((_, i) => i), 'the surviving attempt\'s chunks are contiguous from 0');
      const finalText = durable.map((e) => (e.type === 'TokensGenerated' ? e.data.text : '')).join('');
      assert.equal(textOf(chunks), finalText, `${id}: the client shows exactly the surviving attempt`);
    }
  });
});
