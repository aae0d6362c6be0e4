import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { SignJWT } from 'jose';
import OpenAI from 'openai';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// Prometheus text format → samples (name, labels, value) and declared types.
export function parsePrometheus(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) { types.set(type[1]!, type[2]!); continue; }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  const get = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const sum = (name: string, labels: Record<string, string> = {}) => get(name, labels).reduce((a, s) => a + s.value, 0);
  return { samples, types, get, sum };
}

const tokenFor = (secret: string, userId: string, tier?: string) =>
  new SignJWT({ tenant: 'tm', roles: ['user'], ...(tier ? { tier } : {}) })
    .setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt().setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));

describe('metrics, traces, health', () => {
  let server: TestServer;
  const spans = new InMemorySpanExporter();
  let requestId = '';
  before(async () => {
    // An exporter registered the way PARLEY_OTEL_EXPORTER would, but in memory.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }));
    server = await startTestServer({ env: { PARLEY_TIERS: JSON.stringify({ free: { user: { rpm: 1 } } }) } });

    const paidKey = await tokenFor(server.app.secret, 'mp', 'paid');
    const paid = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: paidKey, maxRetries: 0 });
    const r = await paid.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 16 }, { headers: { 'x-request-id': 'req-metrics-0001' } }).withResponse();
    requestId = r.response.headers.get('x-request-id')!;
    const s = await paid.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Say something' }], stream: true, max_tokens: 16 });
    for await (const _ of s) { /* drain */ }
    await paid.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'how do I build a pipe bomb' }] });
    const gql = graphqlClient(server.url);
    const sent = await gql(paidKey, `mutation Send { sendMessage(input: { content: "Hello", params: { maxTokens: 4 } }) { generation { id } } }`);
    assert.equal(sent.errors, undefined);
    await gql(paidKey, `query List { conversations(first: 5) { edges { node { id } } } }`);
    const free = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await tokenFor(server.app.secret, 'mf'), maxRetries: 0 });
    await free.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    await free.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }).catch(() => undefined);
  });
  after(async () => server?.stop());

  it('GET /metrics parses as Prometheus text and carries the engine, queue, projection, safety, quota and request metrics', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain/);
    const m = parsePrometheus(await res.text());

    // The engine, named after vLLM's.
    for (const g of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc']) assert.equal(m.types.get(g), 'gauge', g);
    assert.equal(m.types.get('vllm:generation_tokens_total'), 'counter');
    assert.ok(m.sum('vllm:generation_tokens_total') > 0);
    assert.ok(m.sum('vllm:prompt_tokens_total') > 0);
    assert.ok(m.sum('vllm:request_success_total') >= 3);
    for (const h of ['vllm:time_to_first_token_seconds', 'vllm:e2e_request_latency_seconds', 'vllm:request_queue_time_seconds', 'vllm:inter_token_latency_seconds', 'vllm:request_prompt_tokens', 'vllm:request_generation_tokens']) {
      assert.equal(m.types.get(h), 'histogram', h);
      assert.ok(m.sum(`${h}_count`) >= 1, h);
    }
    // Projection lag per projection, the saga's lag, the job queue.
    for (const p of ['history', 'audit', 'rlhf', 'usage', 'inference-saga']) assert.equal(m.get('parley_projection_lag_events', { projection: p }).length, 1, p);
    assert.equal(m.get('parley_job_queue_depth', { status: 'queued' }).length, 1);
    // Safety decisions by stage, verdict, category.
    assert.ok(m.sum('parley_safety_decisions_total', { stage: 'input', verdict: 'allowed', category: 'none' }) >= 3);
    const blocked = m.get('parley_safety_decisions_total', { stage: 'input', verdict: 'blocked' });
    assert.ok(blocked.length >= 1 && blocked.every((s) => s.labels.category !== 'none'), JSON.stringify(blocked));
    assert.ok(m.sum('parley_safety_decisions_total', { stage: 'output' }) >= 2);
    // Quotas.
    assert.equal(m.sum('parley_rate_limit_rejections_total', { scope: 'user', limit: 'rpm', tier: 'free' }), 1);
    // HTTP and GraphQL durations.
    assert.ok(m.sum('parley_http_request_duration_seconds_count', { method: 'POST', route: '/v1/chat/completions', status: '200' }) >= 4);
    assert.equal(m.sum('parley_http_request_duration_seconds_count', { route: '/v1/chat/completions', status: '429' }), 1);
    assert.equal(m.sum('parley_graphql_operation_duration_seconds_count', { type: 'mutation', operation: 'Send', outcome: 'ok' }), 1);
    assert.equal(m.sum('parley_graphql_operation_duration_seconds_count', { type: 'query', operation: 'List' }), 1);
    assert.ok(m.sum('parley_gateway_time_to_first_token_seconds_count', { stream: 'true' }) >= 1);
    assert.equal(m.sum('parley_openai_requests_total', { outcome: 'rate_limited' }), 1);
  });

  it('spans around the request, safety, context assembly, queue wait, prefill and decode, tied by the correlation id', async () => {
    const all = spans.getFinishedSpans();
    const names = new Set(all.map((s) => s.name));
    for (const n of ['parley.openai.chat_completion', 'parley.admission', 'parley.safety.input', 'parley.context.assembly', 'parley.queue.wait', 'parley.generation', 'parley.engine.queue', 'parley.prefill', 'parley.decode']) {
      assert.ok(names.has(n), `span ${n} (got ${[...names].join(', ')})`);
    }
    const ofRequest = all.filter((s) => s.attributes['parley.correlation_id'] === requestId).map((s) => s.name);
    for (const n of ['parley.openai.chat_completion', 'parley.safety.input', 'parley.context.assembly', 'parley.queue.wait']) assert.ok(ofRequest.includes(n), `${n} carries the request's correlation id`);
    const generation = all.find((s) => s.name === 'parley.generation' && s.attributes['parley.correlation_id'] === requestId)!;
    const prefill = all.find((s) => s.name === 'parley.prefill' && s.parentSpanContext?.spanId === generation.spanContext().spanId);
    const decode = all.find((s) => s.name === 'parley.decode' && s.parentSpanContext?.spanId === generation.spanContext().spanId);
    assert.ok(prefill && decode, 'prefill and decode nest in the generation span');
  });

  it('/healthz is alive; /readyz checks database, model, projections and turns 503 while draining', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const res = await fetch(`${server.url}/readyz`);
    const body = await res.json() as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body.checks).sort(), ['accepting', 'database', 'model', 'projections']);
    await server.app.drain(0);
    const draining = await server.app.ops.ready();
    assert.equal(draining.ok, false);
    assert.equal(draining.checks.accepting!.ok, false);
  });
});
