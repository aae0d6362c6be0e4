import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import OpenAI from 'openai';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { alice } from '../support/events.ts';
import { startRoleProcess, type RoleProcess } from '../support/processes.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

const SECRET = 'shutdown-test-secret-of-at-least-32-chars';
const tokenFor = (userId: string) =>
  new SignJWT({ tenant: 't1', roles: ['user'], tier: 'paid' }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId)
    .setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
const exited = (p: RoleProcess) => new Promise<number | null>((resolve) => {
  if (p.child.exitCode !== null) resolve(p.child.exitCode);
  else p.child.once('exit', (code) => resolve(code));
});

// `parley serve` as an operator runs it: JSON logs on stdout, SIGTERM to stop.
describe('a serving process: correlated JSON logs and graceful SIGTERM', () => {
  let db: TestDatabase;
  let proc: RoleProcess;
  let url: string;
  before(async () => {
    db = await createTestDatabase();
    proc = await startRoleProcess('api,projector,saga,worker', {
      DATABASE_URL: db.url, MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_JWT_SECRET: SECRET, PARLEY_LOG_LEVEL: 'info', PARLEY_SHUTDOWN_GRACE_MS: '20000',
    });
    url = /GraphQL\s+(http:\/\/\S+)\/graphql/.exec(proc.output())![1]!;
  });
  after(async () => {
    await proc?.stop();
    await db?.drop();
  });

  it('SIGTERM mid-stream: no new connections, the running stream finishes, the process exits 0; logs follow the turn by correlation id without content', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: await tokenFor('sig'), maxRetries: 0 });
    const secretWords = 'zebra umbrella forty-two';
    const raw = await client.chat.completions.create(
      { model: 'parley-tiny', messages: [{ role: 'user', content: `Please repeat: ${secretWords}` }], stream: true, max_tokens: 1000, temperature: 0 },
      { headers: { 'x-request-id': 'req-sigterm-0001' } },
    ).withResponse();
    const generationId = raw.response.headers.get('x-parley-generation')!;
    const knex = createKnex(db.url, 1);
    try {
      for (let i = 0; i < 100; i++) {
        const job = await knex('generation_jobs').where({ generation_id: generationId }).first();
        if (job?.status === 'running') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      const reading = (async () => { for await (const c of raw.data) chunks.push(c); })();
      proc.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const refused = await fetch(`${url}/healthz`).then((r) => r.status, () => 'refused');
      assert.ok(refused === 'refused' || refused === 503, `new connections are refused (${refused})`);
      await reading;
      assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length', 'the running stream ran to its end');
      assert.equal(await exited(proc), 0);
      const job = await knex('generation_jobs').where({ generation_id: generationId }).first();
      assert.equal(job.status, 'done');
    } finally {
      await knex.destroy();
    }

    const lines = proc.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const turn = lines.filter((l) => l.correlationId === 'req-sigterm-0001');
    const commands = turn.filter((l) => l.msg === 'command').map((l) => (l.commands as string[]).join('+'));
    assert.ok(commands.includes('StartConversation+SubmitMessage'), 'API');
    // The saga and the worker log each group of their batched executeMany: the worker's last group
    // carries the last chunk, the output check and the completion together.
    const logged = (type: string) => commands.some((c) => c.split('+').includes(type));
    assert.ok(logged('RequestGeneration'), 'saga');
    assert.ok(logged('CompleteGeneration'), 'worker');
    const summary = turn.find((l) => l.msg === 'chat completion')!;
    assert.equal(summary.finishReason, 'length');
    assert.equal(summary.generationId, generationId);
    const draining = lines.find((l) => l.msg === 'shutting down: draining')!;
    assert.equal(draining.streams, 1, 'SIGTERM came while the stream ran');
    assert.ok(lines.some((l) => l.msg === 'drained'));
    assert.ok(lines.every((l) => typeof l.level === 'string' && typeof l.time === 'string'));
    assert.ok(!proc.output().includes('zebra'), 'no message content in the logs');
  });
});

describe('a worker process on SIGTERM past its grace period releases its job lease', () => {
  let api: TestServer;
  let worker: RoleProcess | null = null;
  let second: RoleProcess | null = null;
  // Every process of one deployment shares the master key of the per-user data keys.
  const MASTER_KEY = 'ab'.repeat(32);
  const env = () => ({ DATABASE_URL: api.db.url, MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_LEASE_MS: '30000', PARLEY_SHUTDOWN_GRACE_MS: '300', PARLEY_MASTER_KEY: MASTER_KEY });
  before(async () => {
    api = await startTestServer({ roles: ['api', 'projector', 'saga'], env: { MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_LEASE_MS: '30000', PARLEY_MASTER_KEY: MASTER_KEY } });
  });
  after(async () => {
    await worker?.stop();
    await second?.stop();
    await api?.stop();
  });

  it('the generation goes back to the queue at once (not after the 30 s lease) and another worker finishes it', async () => {
    worker = await startRoleProcess('worker', { ...env(), PARLEY_METRICS_PORT: '0', PARLEY_LOG_LEVEL: 'info' });
    // A worker process serves its own /metrics (its engine's) on PARLEY_METRICS_PORT.
    const opsUrl = /"url":"(http:[^"]+)","msg":"operations endpoint listening/.exec(worker.output())![1]!;
    const scraped = await (await fetch(`${opsUrl}/metrics`)).text();
    assert.match(scraped, /^vllm:num_requests_running\{model_name="parley-tiny"\} 0$/m);
    assert.equal((await fetch(`${opsUrl}/readyz`)).status, 200);
    const gql = graphqlClient(api.url);
    const r = await gql(await api.token(alice), `mutation { sendMessage(input: { content: "Go on", params: { temperature: 0, maxTokens: 600 } }) { generation { id } } }`);
    const id = r.data.sendMessage.generation.id as string;
    for (let i = 0; i < 200; i++) {
      const tokens = (await api.app.store.readStream(`generation-${id}`)).filter((e) => e.type === 'TokensGenerated');
      if (tokens.length > 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    worker.child.kill('SIGTERM');
    assert.equal(await exited(worker), 0);
    const job = await api.app.knex('generation_jobs').where({ generation_id: id }).first();
    assert.equal(job.status, 'running');
    assert.ok(new Date(job.lease_until).getTime() <= Date.now() + 1000, 'the lease was released, not left to expire');
    second = await startRoleProcess('worker', env());
    const terminal = ['GenerationCompleted', 'GenerationFailed', 'GenerationCancelled'];
    let events = await api.app.store.readStream(`generation-${id}`);
    for (let i = 0; i < 300 && !events.some((e) => terminal.includes(e.type)); i++) {
      await new Promise((res) => setTimeout(res, 100));
      events = await api.app.store.readStream(`generation-${id}`);
    }
    const done = events.find((e) => e.type === 'GenerationCompleted');
    assert.ok(done && done.type === 'GenerationCompleted' && done.data.attempt === 2, `the second worker completed it as attempt 2 (${events.map((e) => e.type).join(' ')})`);
  });
});
