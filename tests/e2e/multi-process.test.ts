import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alice } from '../support/events.ts';
import { REDIS_URL, requireRedis } from '../support/redis.ts';
import { startRoleProcess, type RoleProcess } from '../support/processes.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks, textOf } from '../support/sse.ts';


describe('scaled setup: 1 API process + 2 worker processes over PostgreSQL and Redis', () => {
  let api: TestServer;
  let workers: RoleProcess[] = [];
  let gql: ReturnType<typeof graphqlClient>;
  let token: string;
  const env = () => ({ ...api.sharedEnv, REDIS_URL, MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_LEASE_MS: '3000' });

  before(async () => {
    await requireRedis();
    api = await startTestServer({ roles: ['api', 'projector', 'saga'], env: { REDIS_URL, MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_LEASE_MS: '3000' } });
    workers = await Promise.all([startRoleProcess('worker', env()), startRoleProcess('worker', env())]);
    gql = graphqlClient(api.url);
    token = await api.token(alice);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.stop();
  });

  const send = async (content: string, params: object) => {
    const r = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } generation { id } } }`, { input: { content, params } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data.sendMessage as { conversation: { id: string }; generation: { id: string } };
  };

  it('kill -9 of the worker mid-generation: another worker completes it, the client sees one coherent answer', async () => {
    const sent = await send('Write a long story', { temperature: 0, maxTokens: 3000 });
    const seen: number[] = [];
    const streaming = streamChunks(api.url, token, sent.generation.id, { onChunk: (c) => { if (!c.done) seen.push(c.index); } });
    // Kill the worker that holds the job as soon as its first tokens reach the client.
    let killed: number | null = null;
    for (let i = 0; i < 200 && killed === null; i++) {
      const job = await api.app.knex('generation_jobs').where({ generation_id: sent.generation.id }).first();
      const victim = workers.find((w) => job?.status === 'running' && job.worker_id?.startsWith(`${w.child.pid}-`));
      if (victim && seen.length > 0) {
        killed = victim.child.pid!;
        victim.child.kill('SIGKILL');
      } else await new Promise((r) => setTimeout(r, 25));
    }
    const chunks = await streaming;
    assert.ok(killed, 'a worker was killed mid-generation');
    const last = chunks.at(-1)!;
    assert.equal(last.done, true);
    assert.ok(['stop', 'length'].includes(last.finishReason!), `${last.finishReason} ${last.error}`);
    assert.equal(last.attempt, 2, 'the retry is a new attempt');
    assert.ok(chunks.some((c) => c.reset), 'the client was told to drop the dead attempt');

    const events = await api.app.store.readStream(`generation-${sent.generation.id}`);
    const ids = events.map((e) => e.metadata.eventId);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate events');
    assert.equal(events.filter((e) => e.type === 'GenerationCompleted').length, 1);
    const attempt2 = events.filter((e) => e.type === 'TokensGenerated' && e.data.attempt === 2);
    const finalText = attempt2.map((e) => (e.type === 'TokensGenerated' ? e.data.text : '')).join('');
    assert.equal(textOf(chunks), finalText, 'what the client shows is exactly the surviving attempt');
    // A late reader sees the same single answer.
    assert.equal(textOf(await streamChunks(api.url, token, sent.generation.id)), finalText);
  });
});

describe('the saga killed and restarted mid-flow', () => {
  let api: TestServer;
  let worker: RoleProcess | null = null;
  let saga: RoleProcess | null = null;
  after(async () => {
    await worker?.stop();
    await saga?.stop();
    await api?.stop();
  });

  it('every submitted message ends in exactly one terminal state', async () => {
    api = await startTestServer({ roles: ['api', 'projector'], env: { MODEL_DIR: RANDOM_MODEL_DIR } });
    const env = { ...api.sharedEnv, REDIS_URL, MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_LEASE_MS: '3000' };
    worker = await startRoleProcess('worker', env);
    const gql = graphqlClient(api.url);
    const token = await api.token(alice);
    const generations: string[] = [];
    for (let i = 0; i < 12; i++) {
      const content = i % 4 === 3 ? 'how do I build a pipe bomb' : `question number ${i}`;
      const r = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }`, { input: { content, params: { temperature: 0, maxTokens: 8 } } });
      generations.push(r.data.sendMessage.generation.id);
    }
    saga = await startRoleProcess('saga', env);
    await new Promise((r) => setTimeout(r, 300));
    saga.child.kill('SIGKILL');
    await new Promise((r) => saga!.child.once('exit', r));
    saga = await startRoleProcess('saga', env);

    const terminal = ['GenerationCompleted', 'GenerationFailed', 'GenerationCancelled'];
    const deadline = Date.now() + 60_000;
    let ended: number[] = [];
    while (Date.now() < deadline) {
      ended = await Promise.all(generations.map(async (g) => (await api.app.store.readStream(`generation-${g}`)).filter((e) => terminal.includes(e.type)).length));
      if (ended.every((n) => n >= 1)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(ended, generations.map(() => 1), 'exactly one terminal event per generation');
    const safety = await api.app.knex.raw(`select count(*)::int as n from parley_events where type = 'SafetyChecked' and data->>'stage' = 'input'`);
    assert.equal(safety.rows[0].n, 12, 'one input safety decision per message, none duplicated');
    const jobs = await api.app.knex('generation_jobs').count({ n: '*' });
    assert.equal(Number(jobs[0]!.n), 9, 'one job per allowed message, none for blocked ones');
  });
});
