import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-sse';
import fc from 'fast-check';
import { collectPools, hostileTarget, normalTurn, runFuzz, sendRawTarget, type FuzzPools } from '../support/fuzz-arbitraries.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// Hostile input never reaches a 500, an INTERNAL error or a hang. A reduced run of the fuzz that
// bench/chaos runs 10,000 times (same arbitraries: tests/support/fuzz-arbitraries.ts), against the
// real server, plus the inputs issue 14 found, each answered with the error that names the field.
// FUZZ_RUNS and FUZZ_SEED repeat or widen a run.

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

describe('hostile input', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let alice: string;
  let bob: string;
  let pools: FuzzPools;
  const tokens: (string | null)[] = [];

  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
    alice = await server.token({ userId: 'alice', tenantId: 'acme', roles: ['user'] });
    bob = await server.token({ userId: 'bob', tenantId: 'acme', roles: ['user'] });
    tokens.push(alice, bob,
      await server.token({ userId: 'alice', tenantId: 'evil', roles: ['user'] }),
      await server.token({ userId: 'root', tenantId: 'acme', roles: ['admin'] }),
      await server.token({ userId: 'carol', tenantId: 'acme', roles: ['compliance'] }),
      await server.token({ userId: 'dan', tenantId: 'acme', roles: ['data_scientist'] }),
      null, 'not.a.jwt');
    pools = await collectPools(server.url, alice);
  });
  after(async () => server?.stop());

  const post = (path: string, body: unknown, token = alice) => fetch(`${server.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const badInput = (r: { errors?: { extensions?: { code?: string; field?: string } }[] }) => [r.errors?.[0]?.extensions?.code, r.errors?.[0]?.extensions?.field];

  it('answers the inputs of issue 14 with BAD_USER_INPUT naming the field', async () => {
    assert.deepEqual(badInput(await gql(alice, 'query($id: ID!) { conversation(id: $id) { id } }', { id: 'a\u0000b' })), ['BAD_USER_INPUT', 'id']);
    assert.deepEqual(badInput(await gql(alice, 'mutation($id: ID!) { regenerate(generationId: $id) { position } }', { id: 'x\ud800' })), ['BAD_USER_INPUT', 'generationId']);
    assert.deepEqual(badInput(await gql(alice, 'query($s: String) { conversations(search: $s) { edges { cursor } } }', { s: 'a\u0000' })), ['BAD_USER_INPUT', 'search']);
    assert.deepEqual(badInput(await gql(tokens[4]!, 'query($u: ID) { auditLog(filter: {userId: $u}) { edges { cursor } } }', { u: 'a\u0000' })), ['BAD_USER_INPUT', 'filter.userId']);
    assert.deepEqual(badInput(await gql(alice, 'mutation($s: [String!]) { sendMessage(input: {content: "hi", params: {stop: $s}}) { position } }', { s: ['\u0000'] })), ['BAD_USER_INPUT', 'params.stop.0']);
    const handMade = Buffer.from(JSON.stringify({ updatedAt: 'not a date', id: 'x' })).toString('base64url');
    assert.deepEqual(badInput(await gql(alice, 'query($a: String) { conversations(after: $a) { edges { cursor } } }', { a: handMade })), ['BAD_USER_INPUT', 'after']);
    assert.deepEqual(badInput(await gql(tokens[5]!, '{ events(after: "99999999999999999999/1") { edges { cursor } } }')), ['BAD_USER_INPUT', 'after']);
    assert.deepEqual(badInput(await gql(alice, 'mutation { startConversation(input: {model: "not-served"}) { position } }')), ['BAD_USER_INPUT', 'model']);
    // a well-formed id of nobody's conversation is simply not there
    assert.deepEqual(await gql(alice, 'query($id: ID!) { conversation(id: $id) { id } }', { id: '00000000-0000-4000-8000-000000000000' }), { data: { conversation: null } });
  });

  it('refuses deep documents before parsing them, with a 400', async () => {
    for (const query of [`query ${'{ a '.repeat(10_000)}${'}'.repeat(10_000)}`, `{ __schema { types { ${'ofType { '.repeat(2000)}name${' }'.repeat(2000)} } } }`]) {
      const res = await post('/graphql', { query });
      assert.equal(res.status, 400);
      assert.deepEqual(badInput(await res.json() as any), ['BAD_USER_INPUT', undefined]);
    }
  });

  it('answers OpenAI requests with NUL or lone surrogates with a 400 in OpenAI\'s shape', async () => {
    const res = await post('/v1/chat/completions', { model: 'parley-tiny', max_tokens: 5, stop: ['\u0000'], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: { message: 'stop.[0]: must not contain NUL characters', type: 'invalid_request_error', param: 'stop.[0]', code: null } });
    const lone = await post('/v1/chat/completions', { model: 'parley-tiny', max_tokens: 5, user: 'u\ud800', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(lone.status, 400);
    assert.equal((await lone.json() as any).error.param, 'user');
    const unknown = await post('/v1/chat/completions', { model: 'not-served', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json() as any).error.code, 'model_not_found');
    const events = await fetch(`${server.url}/v1/events?after=99999999999999999999/1`, { headers: { authorization: `Bearer ${tokens[5]}` } });
    assert.equal(events.status, 400);
  });

  it('answers generationStream for an unknown or someone else\'s id with NOT_FOUND on both SSE endpoints', async () => {
    const STREAM = 'subscription($id: ID!) { generationStream(id: $id) { delta done } }';
    for (const [token, id] of [[alice, '00000000-0000-4000-8000-000000000000'], [bob, pools.generationIds[0]!]] as const) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: STREAM, variables: { id } }),
      });
      const frames = (await res.text()).split('\n').filter((l) => l.startsWith('data:') && l.length > 6).map((l) => JSON.parse(l.slice(5)));
      assert.deepEqual(frames.map((f) => f.errors?.[0]?.extensions?.code), ['NOT_FOUND']);

      const client = createClient({ url: `${server.url}/graphql/stream`, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
      const results: any[] = [];
      try {
        for await (const r of client.iterate({ query: STREAM, variables: { id } })) results.push(r);
      } finally {
        client.dispose();
      }
      assert.deepEqual(results.map((r) => r.errors?.[0]?.extensions?.code), ['NOT_FOUND']);
    }
  });

  it(`answers ${RUNS} fuzzed requests over GraphQL and /v1 with no 5xx, no INTERNAL and no hang`, async () => {
    const report = await runFuzz(server.url, tokens, RUNS, { pools, seed: SEED, timeoutMs: 20_000, concurrency: 4 });
    const shown = report.failures.slice(0, 10).map((f) => `${f.kind} ${f.status ?? ''} ${f.request.slice(0, 300)} → ${f.detail.slice(0, 200)}`);
    assert.deepEqual(shown, [], `fuzz seed ${report.seed} (FUZZ_SEED=${report.seed} repeats it): ${report.failures.length} failures`);
    assert.equal(report.requests, RUNS);
    // it reached the API, not only its front door
    assert.ok((report.byStatus['200'] ?? 0) > 0 && (report.byStatus['400'] ?? 0) > 0, JSON.stringify(report.byStatus));
  });

  it('answers request targets that are no URL (GET // HTTP/1.1) with a 4xx, and keeps serving', async () => {
    // One such request used to throw outside every route's try and stop the process.
    const targets = ['//', '//@', '//a:b', ...fc.sample(hostileTarget, { numRuns: 60, seed: SEED })];
    for (const target of targets) {
      const { status, failure } = await sendRawTarget(server.url, target.length % 2 ? 'GET' : 'POST', target);
      assert.equal(failure, null, `${target}: ${failure}`);
      assert.ok(status !== null && status < 500, `${target} → ${status}`);
    }
    assert.equal((await sendRawTarget(server.url, 'GET', '//')).status, 400);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('still answers an ordinary turn afterwards', async () => {
    const erin = await server.token({ userId: 'erin', tenantId: 'acme', roles: ['user'] });
    const turn = await normalTurn(server.url, erin);
    assert.ok(turn.finishReason === 'stop' || turn.finishReason === 'length', JSON.stringify(turn));
    assert.ok(turn.text.length > 0);
  });
});
