import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { alice } from '../support/events.ts';
import { startRoleProcess, type RoleProcess } from '../support/processes.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
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
