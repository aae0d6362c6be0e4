import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { loadModel } from '../../inference/engine/model.ts';
import type { Actor } from '../../schemas/common.ts';
import { startRoleProcess, type RoleProcess } from '../support/processes.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// kill -9 of the saga in the middle of a tool round: it has recorded the call, its outcome and the
// continuation's request, and waits for its checkpoint (held by the test), where it is killed. The
// restarted saga replays the batch: the call is not run again and the turn continues once.
describe('kill -9 of the saga during a tool round', () => {
  let api: TestServer;
  let saga: RoleProcess | null = null;
  let lock: pg.Client | null = null;
  after(async () => {
    await lock?.end().catch(() => undefined);
    await saga?.stop();
    await api?.stop();
  });

  it('the turn completes once: one call, one outcome, one continuation, one job', async () => {
    const tools = { PARLEY_TOOLS: 'on', PARLEY_TOOL_SELECTION: 'all', PARLEY_QUOTAS: 'off' };
    api = await startTestServer({ roles: ['api', 'projector'], env: tools });
    const env = { ...api.sharedEnv, ...tools };
    saga = await startRoleProcess('saga', env);
    const gql = graphqlClient(api.url);
    const alice: Actor = { userId: 'alice', tenantId: 'acme', roles: ['user'] };
    const token = await api.token(alice);
    const send = async (content: string) => {
      const r = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }`, { input: { content, params: { maxTokens: 32 } } });
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data.sendMessage.generation.id as string;
    };
    const events = async (id: string) => api.app.store.readStream(`generation-${id}`);
    const until = async (what: string, probe: () => Promise<boolean>) => {
      for (let i = 0; i < 1200; i++) { if (await probe()) return; await new Promise((r) => setTimeout(r, 50)); }
      throw new Error(`gave up waiting for ${what}`);
    };
    const g = await send('what is 12*12?');
    await until('the request', async () => (await events(g)).length > 0);

    // Stop the saga, complete the generation with a call (what a worker appends), hold the saga's
    // checkpoint row (taken after the completion: an open transaction fences later appends off the
    // log), and start the saga again: it runs the round, then waits for its checkpoint.
    await saga.stop();
    const model = loadModel();
    const text = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "12*12"}}\n</tool_call>';
    const tokenIds = model.tokenizer.encode(text);
    const worker: Actor = { userId: 'test-worker', tenantId: 'system', roles: ['admin', 'platform_operator'] };
    const r = await api.app.commands.executeAll([
      { type: 'AppendTokens', data: { generationId: g, attempt: 1, firstIndex: 0, tokenIds, text }, metadata: { commandId: 'w1', actor: worker } },
      { type: 'CompleteGeneration', data: { generationId: g, attempt: 1, finishReason: 'stop', usage: { promptTokens: 1, completionTokens: tokenIds.length }, ttftMs: 1, tpotMs: 1, workerId: 'w' }, metadata: { commandId: 'w2', actor: worker } },
    ]);
    assert.ok(r.ok);
    lock = new pg.Client({ connectionString: api.db.url });
    await lock.connect();
    await lock.query('begin');
    await lock.query(`select 1 from parley_checkpoints where name = 'inference-saga' for update`);
    const { rows: [before] } = await lock.query(`select position from parley_checkpoints where name = 'inference-saga'`);
    saga = await startRoleProcess('saga', env);
    await until('the continuation request', async () => (await events(`${g}.t1`)).length > 0);
    saga.child.kill('SIGKILL');
    await new Promise((res) => saga!.child.once('exit', res));
    const { rows: [stuck] } = await lock.query(`select position from parley_checkpoints where name = 'inference-saga'`);
    assert.equal(stuck.position, before.position, 'killed before its checkpoint passed the completion: the batch is replayed');
    await lock.query('rollback');
    await lock.end();
    lock = null;

    saga = await startRoleProcess('saga', env);
    const later = await send('and after the crash?');
    await until('the restarted saga to pass the replayed batch', async () => (await events(later)).length > 0);
    const calls = (await events(g)).map((e) => e.type).filter((t) => t.startsWith('ToolCall'));
    assert.deepEqual(calls, ['ToolCallRequested', 'ToolCallCompleted']);
    assert.equal((await events(`${g}.t1`)).filter((e) => e.type === 'GenerationRequested').length, 1);
    assert.equal((await api.app.knex('generation_jobs').where({ generation_id: `${g}.t1` })).length, 1);
  });
});
