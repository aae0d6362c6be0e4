import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { App } from '../../bin/app.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { armOf } from '../../inference/models/index.ts';
import { waitForProjection } from '../../projections/index.ts';
import type { Actor } from '../../schemas/common.ts';
import type { EventOf } from '../../schemas/events.ts';
import { Experiment } from '../../schemas/models.ts';
import { twoProportionZTest } from '../../read-api/experiments/z-test.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// Fallback under saturation, and an A/B experiment measured from real traffic (issue 20).

async function ended(app: App, generationId: string): Promise<RecordedEvent[]> {
  for (let i = 0; i < 900; i++) {
    const events = await app.store.readStream(`generation-${generationId}`);
    if (events.some((e) => e.type === 'GenerationCompleted' || e.type === 'GenerationFailed')) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`generation ${generationId} did not end`);
}
const requested = (events: RecordedEvent[]) => events.find((e) => e.type === 'GenerationRequested') as EventOf<'GenerationRequested'>;
const completed = (events: RecordedEvent[]) => events.find((e) => e.type === 'GenerationCompleted') as EventOf<'GenerationCompleted'>;

describe('fallback: a saturated model hands its overflow to its fallback', () => {
  let server: TestServer;
  before(async () => {
    // test-random runs 2 sequences at once and talks until max_tokens: a burst of 8 saturates it
    // (2 running, 2 queued: the watermark; whatever comes next falls back).
    server = await startTestServer({
      env: {
        PARLEY_MODELS: JSON.stringify({
          'parley-tiny': { dir: 'inference/model/parley-tiny' },
          'test-random': { dir: 'inference/model/test-random', maxSeqs: 2, fallback: 'parley-tiny', fallbackQueueDepth: 2 },
        }),
        PARLEY_QUOTAS: 'off',
      },
    });
  });
  after(async () => server?.stop());

  it('records fallbackFrom, runs the fallback on its own worker, and counts it in /metrics', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token({ userId: 'u', tenantId: 't', roles: ['user'] }), maxRetries: 0 });
    const ids = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const raw = await client.chat.completions.create({ model: 'test-random', messages: [{ role: 'user', content: `Tell me a story ${i}` }], max_tokens: 200 }).withResponse();
      return raw.response.headers.get('x-parley-generation')!;
    }));
    const runs = await Promise.all(ids.map(async (id) => ended(server.app, id)));
    const tinyWorker = server.app.workers[server.app.models.names().indexOf('parley-tiny')]!.workerId;
    const randomWorker = server.app.workers[server.app.models.names().indexOf('test-random')]!.workerId;
    const fellBack = runs.filter((r) => requested(r).data.fallbackFrom === 'test-random');
    const stayed = runs.filter((r) => requested(r).data.fallbackFrom === undefined);
    assert.ok(fellBack.length > 0, 'some of the burst fell back');
    assert.ok(stayed.length >= 2, 'the saturated model still served what it had room for');
    for (const r of fellBack) {
      assert.equal(requested(r).data.model, 'parley-tiny');
      assert.equal(completed(r).data.workerId, tinyWorker);
    }
    for (const r of stayed) {
      assert.equal(requested(r).data.model, 'test-random');
      assert.equal(completed(r).data.workerId, randomWorker);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^parley_model_fallbacks_total\\{model_name="test-random",fallback="parley-tiny"\\} ${fellBack.length}$`, 'm'));
    assert.match(metrics, /^vllm:num_requests_running\{model_name="test-random"\} \d+$/m);
    assert.match(metrics, /^vllm:request_generation_tokens_count\{model_name="parley-tiny"\} \d+$/m);
  });
});

describe('fallback: a model whose workers are gone hands its generations to its fallback', () => {
  let server: TestServer;
  before(async () => {
    // No worker loads test-random (this process loads parley-tiny only): its jobs wait, none runs.
    server = await startTestServer({
      env: {
        PARLEY_MODELS: JSON.stringify({
          'parley-tiny': { dir: 'inference/model/parley-tiny' },
          'test-random': { dir: 'inference/model/test-random', fallback: 'parley-tiny' },
        }),
        PARLEY_WORKER_MODELS: 'parley-tiny',
        PARLEY_LEASE_MS: '500', // no worker after 3 leases: 1.5 s
        PARLEY_QUOTAS: 'off',
      },
    });
  });
  after(async () => server?.stop());

  it('the first turn waits for a worker that never comes; once it has waited 3 leases, the next falls back', async () => {
    const gql = graphqlClient(server.url);
    const token = await server.token({ userId: 'u', tenantId: 't', roles: ['user'] });
    const send = async () => {
      const r = await gql(token, `mutation { sendMessage(input: { content: "Hello", model: "test-random", params: { maxTokens: 4 } }) { generation { id } } }`);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data.sendMessage.generation.id as string;
    };
    const stranded = await send();
    // Until its job is queued and has waited 1.5 s with none of test-random's running.
    for (let i = 0; i < 300; i++) {
      const job = await server.app.knex('generation_jobs').where({ generation_id: stranded }).first();
      if (job && Date.now() - new Date(job.created_at).getTime() > 1600) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rescued = requested(await ended(server.app, await send()));
    assert.equal(rescued.data.model, 'parley-tiny');
    assert.equal(rescued.data.fallbackFrom, 'test-random');
    const first = await server.app.store.readStream(`generation-${stranded}`);
    assert.equal(requested(first).data.model, 'test-random', 'the first turn was not rerouted (its request is recorded)');
    assert.ok(!first.some((e) => e.type === 'GenerationCompleted'), 'no worker ran the stranded turn');
  });
});

describe('A/B experiment: arms recorded in GenerationRequested, reported per arm', () => {
  const experiment = { name: 'tiny-vs-random', arms: [{ name: 'control', model: 'parley-tiny', weight: 50 }, { name: 'candidate', model: 'test-random', weight: 50 }] };
  // Users picked so both arms have at least three (the split itself is tested over 2,000 users in unit/models.test.ts).
  const users: Actor[] = [];
  for (let i = 0, per = new Map<string, number>(); users.length < 8; i++) {
    const arm = armOf(Experiment.parse(experiment), `lab/user-${i}`).name;
    if ((per.get(arm) ?? 0) >= 4) continue;
    per.set(arm, (per.get(arm) ?? 0) + 1);
    users.push({ userId: `user-${i}`, tenantId: 'lab', roles: ['user'] });
  }
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      env: {
        PARLEY_MODELS: JSON.stringify({ 'parley-tiny': { dir: 'inference/model/parley-tiny' }, 'test-random': { dir: 'inference/model/test-random' } }),
        PARLEY_EXPERIMENTS: JSON.stringify([{ ...experiment, tenants: ['lab'] }]),
        PARLEY_QUOTAS: 'off',
      },
    });
  });
  after(async () => server?.stop());

  it('experimentReport from real traffic: turns, ratings, regenerations, TTFT, tokens, z-test', async () => {
    const gql = graphqlClient(server.url);
    const send = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }`;
    const feedback = `mutation($input: FeedbackInput!) { giveFeedback(input: $input) { position } }`;
    const expected = new Map<string, { turns: number; ups: number; rated: number; regenerations: number }>(experiment.arms.map((a) => [a.name, { turns: 0, ups: 0, rated: 0, regenerations: 0 }]));
    let last = '';
    for (const [i, user] of users.entries()) {
      const token = await server.token(user);
      const sent = await gql(token, send, { input: { content: `Hello number ${i}`, params: { maxTokens: 8 } } });
      assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
      const events = await ended(server.app, sent.data.sendMessage.generation.id);
      const request = requested(events);
      const arm = armOf(Experiment.parse(experiment), `lab/${user.userId}`);
      assert.deepEqual(request.data.experiment, { name: 'tiny-vs-random', arm: arm.name }, 'the arm is recorded');
      assert.equal(request.data.model, arm.model);
      const e = expected.get(arm.name)!;
      e.turns++;
      // Every other user rates: up for even i, down for odd multiples of 3, none otherwise.
      const rating = i % 2 === 0 ? 'UP' : i % 3 === 0 ? 'DOWN' : null;
      if (rating) {
        const r = await gql(token, feedback, { input: { generationId: request.data.generationId, rating } });
        assert.equal(r.errors, undefined, JSON.stringify(r.errors));
        last = r.data.giveFeedback.position;
        e.rated++;
        if (rating === 'UP') e.ups++;
      }
      if (i < 2) {
        const r = await gql(token, `mutation($id: ID!) { regenerate(generationId: $id) { generation { id } position } }`, { id: request.data.generationId });
        assert.equal(r.errors, undefined, JSON.stringify(r.errors));
        const sibling = requested(await ended(server.app, r.data.regenerate.generation.id));
        assert.deepEqual(sibling.data.experiment, request.data.experiment, 'a regeneration stays in its arm');
        e.regenerations++;
      }
    }
    const head = await server.app.store.headPosition();
    assert.ok(await waitForProjection(server.app.knex, 'experiments', head, 30_000), `experiments projection reached ${last}`);

    const analyst = await server.token({ userId: 'ana', tenantId: 'lab', roles: ['data_scientist'] });
    const r = await gql(analyst, `query($name: String!) { experimentReport(name: $name) { name control arms {
      arm model weight turns regenerations regenerateRate rated thumbsUp thumbsUpRate ttftP50Ms ttftP95Ms promptTokens completionTokens fallbacks thumbsUpTest { z pValue } } } }`, { name: 'tiny-vs-random' });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const report = r.data.experimentReport;
    assert.equal(report.control, 'control');
    for (const arm of report.arms) {
      const e = expected.get(arm.arm)!;
      assert.equal(arm.turns, e.turns, `${arm.arm} turns`);
      assert.equal(arm.rated, e.rated, `${arm.arm} rated`);
      assert.equal(arm.thumbsUp, e.ups, `${arm.arm} thumbs up`);
      assert.equal(arm.thumbsUpRate, e.rated ? e.ups / e.rated : null);
      assert.equal(arm.regenerations, e.regenerations);
      assert.equal(arm.regenerateRate, e.regenerations / e.turns);
      assert.ok(arm.ttftP50Ms !== null && arm.ttftP95Ms >= arm.ttftP50Ms, `${arm.arm} TTFT`);
      assert.ok(arm.completionTokens > 0 && arm.promptTokens > 0);
    }
    const [control, candidate] = report.arms;
    assert.equal(control.thumbsUpTest, null);
    // The candidate's test, from the counts this test produced (null when a group has no ratings or all agree).
    const c = expected.get('control')!;
    const d = expected.get('candidate')!;
    const want = twoProportionZTest(c.ups, c.rated, d.ups, d.rated);
    if (want === null) assert.equal(candidate.thumbsUpTest, null);
    else assert.ok(Math.abs(candidate.thumbsUpTest.z - want.z) < 1e-9 && Math.abs(candidate.thumbsUpTest.pValue - want.pValue) < 1e-9);

    const missing = await gql(analyst, `{ experimentReport(name: "nope") { name } }`);
    assert.equal(missing.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    const user = await gql(await server.token(users[0]!), `{ experimentReport(name: "tiny-vs-random") { name } }`);
    assert.equal(user.errors?.[0]?.extensions?.code, 'FORBIDDEN');

    // Roles stay inside their tenant: another tenant's analyst sees none of lab's traffic, a bare
    // platform_operator is nobody, and only an analyst who is also a platform operator sees it all.
    const outsider = await gql(await server.token({ userId: 'ana', tenantId: 'evil', roles: ['data_scientist', 'admin'] }), `{ experimentReport(name: "tiny-vs-random") { arms { turns rated promptTokens } } }`);
    assert.equal(outsider.errors, undefined, JSON.stringify(outsider.errors));
    for (const arm of outsider.data.experimentReport.arms) assert.deepEqual(arm, { turns: 0, rated: 0, promptTokens: 0 });
    const bare = await gql(await server.token({ userId: 'ops', tenantId: 'evil', roles: ['platform_operator'] }), `{ experimentReport(name: "tiny-vs-random") { name } }`);
    assert.equal(bare.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(bare));
    const operator = await gql(await server.token({ userId: 'ops', tenantId: 'evil', roles: ['data_scientist', 'platform_operator'] }), `{ experimentReport(name: "tiny-vs-random") { arms { turns } } }`);
    assert.deepEqual(operator.data.experimentReport.arms.map((a: { turns: number }) => a.turns), report.arms.map((a: { turns: number }) => a.turns));
  });
});
