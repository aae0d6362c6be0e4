import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks, textOf } from '../support/sse.ts';

// The instruments of bench:pipeline (issue 15): the database round-trip counter on /metrics and the
// null model (PARLEY_NULL_MODEL=1), driven through the real server like a user would.

// Prometheus text → sum of a metric's samples matching some labels, and its declared type.
function parsePrometheus(text: string) {
  const lines = text.split('\n');
  const type = (name: string) => lines.map((l) => /^# TYPE (\S+) (\S+)$/.exec(l)).find((m) => m?.[1] === name)?.[2];
  const sum = (name: string, labels: Record<string, string> = {}) => lines
    .map((l) => /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === name)
    .filter((m) => Object.entries(labels).every(([k, v]) => (m[2] ?? '').split(/,(?=[a-zA-Z_]+=")/).includes(`${k}="${v}"`)))
    .reduce((a, m) => a + Number(m[3]), 0);
  return { types: { get: type }, sum };
}

describe('pipeline instruments: parley_db_queries_total and the null model', () => {
  let server: TestServer;
  let token: string;
  const scrape = async () => parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());

  before(async () => {
    server = await startTestServer({ env: { PARLEY_NULL_MODEL: '1' } });
    token = await server.token({ userId: 'pi-user', tenantId: 'pi', roles: ['user'] });
  });
  after(async () => server?.stop());

  it('with PARLEY_NULL_MODEL=1 a turn streams the fixed 32-token answer to the client', async () => {
    const gql = graphqlClient(server.url);
    const sent = await gql(token, `mutation { sendMessage(input: { content: "What is the capital of France?", params: { maxTokens: 64 } }) { generation { id } } }`);
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    const chunks = await streamChunks(server.url, token, sent.data.sendMessage.generation.id);
    const last = chunks.at(-1)!;
    assert.equal(last.done, true);
    assert.equal(last.finishReason, 'stop');
    assert.equal(last.usage?.completionTokens, 32);
    assert.match(textOf(chunks), /^This is the null model of the Parley benchmark/);

    // A second turn with maxTokens below 32 is cut at maxTokens, like a model would be.
    const short = await gql(token, `mutation { sendMessage(input: { content: "Hello!", params: { maxTokens: 5 } }) { generation { id } } }`);
    const shortChunks = await streamChunks(server.url, token, short.data.sendMessage.generation.id);
    assert.equal(shortChunks.at(-1)!.finishReason, 'length');
    assert.equal(shortChunks.at(-1)!.usage?.completionTokens, 5);
  });

  it('/metrics counts the round trips of the turn by role and operation', async () => {
    const m = await scrape();
    assert.equal(m.types.get('parley_db_queries_total'), 'counter');
    const role = 'api,projector,saga,worker';
    for (const op of ['append', 'append_many', 'read_all', 'read_stream', 'job_claim', 'job_enqueue', 'tx:begin', 'tx:commit', 'connect']) {
      assert.ok(m.sum('parley_db_queries_total', { role, op }) > 0, `op ${op}`);
    }
    // Two turns: each turn's message is one append (the API); the saga's decision and request and
    // the worker's chunks and completion go in batched appendMany calls, at least one each per turn
    // when the turns arrive apart, as here.
    assert.ok(m.sum('parley_db_queries_total', { op: 'append' }) >= 2);
    assert.ok(m.sum('parley_db_queries_total', { op: 'append_many' }) >= 2 * 2);
  });

  it('counts a statement sent through knex and one through a pg.Pool exactly once each', async () => {
    // pg_class is read by nothing else in Parley, so background pollers cannot move this label.
    const label = { op: 'sql:select:pg_class' };
    const before = (await scrape()).sum('parley_db_queries_total', label);
    await server.app.knex.raw('select count(*) from pg_class');
    const pool = new pg.Pool({ connectionString: server.db.url, max: 1 });
    try {
      await pool.query('select relname from pg_class limit 1');
    } finally {
      await pool.end();
    }
    assert.equal((await scrape()).sum('parley_db_queries_total', label) - before, 2);
  });
});
