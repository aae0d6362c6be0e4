import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { signToken } from '../../read-api/auth.ts';
import { alice } from '../support/events.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';
import { until } from '../support/until.ts';

// Tools and structured outputs through the official `openai` client, unmodified, on the
// random-weight model at temperature 1: whatever it samples, constrained answers are valid calls
// and valid JSON (checked with zod's JSON-Schema import, not with Parley's grammar).
const weatherParams = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer' } },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};
const addParams = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false };
const tools: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather forecast for a city', parameters: weatherParams, strict: true } },
  { type: 'function', function: { name: 'add', description: 'Adds two numbers', parameters: addParams } },
];
const personSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    roles: { type: 'array', items: { type: 'string', enum: ['admin', 'user'] } },
    address: { anyOf: [{ type: 'null' }, { type: 'object', properties: { city: { type: 'string' }, geo: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } }, required: ['lat', 'lon'], additionalProperties: false } }, required: ['city', 'geo'], additionalProperties: false }] },
    active: { type: 'boolean' },
  },
  required: ['name', 'age', 'roles', 'address', 'active'],
  additionalProperties: false,
};
const asZod = (s: object) => z.fromJSONSchema(s as Parameters<typeof z.fromJSONSchema>[0]);
const argsValidator: Record<string, z.ZodType> = { get_weather: asZod(weatherParams), add: asZod(addParams) };
const person = asZod(personSchema);

function assertValidCall(c: OpenAI.ChatCompletionMessageToolCall, names = ['get_weather', 'add']) {
  assert.equal(c.type, 'function');
  assert.match(c.id, /^call_/);
  assert.ok(c.type === 'function' && names.includes(c.function.name), JSON.stringify(c));
  if (c.type !== 'function') return;
  const args = JSON.parse(c.function.arguments);
  assert.ok(argsValidator[c.function.name]!.safeParse(args).success, c.function.arguments);
}

/** n requests, `width` at a time */
async function many<T>(n: number, width: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += width) out.push(...await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => f(i + k))));
  return out;
}

describe('OpenAI tools and response_format', () => {
  let server: TestServer;
  let client: OpenAI;
  const model = 'parley-tiny';
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
  before(async () => {
    server = await startTestServer({ env: { MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_MODEL: 'parley-tiny' } });
    // the premium tier: many sampled requests at once, within its quotas
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await signToken(server.app.secret, alice, '1h', 'premium'), maxRetries: 0 });
  });
  after(async () => server?.stop());

  it('tool_choice required, not streamed: 30 sampled answers at temperature 1 are all valid calls, finish_reason tool_calls', async () => {
    const rs = await many(30, 10, () => client.chat.completions.create({ model, messages, tools, tool_choice: 'required', temperature: 1, max_tokens: 160 }));
    for (const r of rs) {
      const choice = r.choices[0]!;
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.content, null);
      assert.ok(choice.message.tool_calls!.length >= 1);
      for (const c of choice.message.tool_calls!) assertValidCall(c);
    }
  });

  it('a named function, parallel_tool_calls false: exactly one call of that function; the constraint is in the recorded GenerationRequested', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const raw = await client.chat.completions.create({ model, messages, tools, tool_choice: { type: 'function', function: { name: 'add' } }, parallel_tool_calls: false, temperature: 1, seed, max_tokens: 100 }).withResponse();
      const calls = raw.data.choices[0]!.message.tool_calls!;
      assert.equal(calls.length, 1);
      assertValidCall(calls[0]!, ['add']);
      const gen = await server.app.store.readStream(`generation-${raw.response.headers.get('x-parley-generation')}`);
      const requested = gen.find((e) => e.type === 'GenerationRequested')!;
      assert.ok(requested.type === 'GenerationRequested');
      assert.deepEqual(requested.data.params.constraint, { type: 'tool_calls', tools: [{ name: 'add', parameters: addParams, strict: false }], parallel: false });
    }
  });

  it('the client\'s calls are recorded: in history (Message.toolCalls, requested) and in the audit; the saga runs no server round for them', async () => {
    const raw = await client.chat.completions.create({ model, messages, tools, tool_choice: 'required', temperature: 1, seed: 5, max_tokens: 160 }).withResponse();
    const calls = raw.data.choices[0]!.message.tool_calls!.filter((c) => c.type === 'function');
    const conversationId = raw.response.headers.get('x-parley-conversation')!;
    const generationId = raw.response.headers.get('x-parley-generation')!;
    const gql = graphqlClient(server.url);
    const token = await server.token(alice);
    let seen: { id: string; name: string; arguments: string; status: string }[] = [];
    for (let i = 0; i < 100 && seen.length < calls.length; i++) {
      const r = await gql(token, `query($id: ID!) { conversation(id: $id) { messages { role toolCalls { id name arguments status } } } }`, { id: conversationId });
      seen = (r.data?.conversation?.messages ?? []).flatMap((m: { toolCalls: typeof seen }) => m.toolCalls);
      if (seen.length < calls.length) await new Promise((res) => setTimeout(res, 50));
    }
    assert.deepEqual(seen.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments, status: c.status })),
      calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments, status: 'requested' })), 'every call, as the client received it');
    // The audit is its own projection: wait for it as for the history above (it lagged once in CI).
    const audit = await until('the audit rows of the calls', async () => {
      const rows = await server.app.knex('audit_log').where({ event_type: 'ToolCallRequested', generation_id: generationId }).select('tool_name', 'user_id');
      return rows.length >= calls.length ? rows : undefined;
    }).catch(() => []);
    assert.deepEqual(audit.map((r) => r.tool_name).sort(), calls.map((c) => c.function.name).sort(), 'an audit row per call, with its tool');
    assert.ok(audit.every((r) => r.user_id === alice.userId), 'attributed to the caller');
    const events = await server.app.store.readStream(`generation-${generationId}`);
    assert.equal(events.filter((e) => e.type === 'ToolCallRequested').length, calls.length);
    assert.ok(!events.some((e) => e.type === 'ToolCallFailed'), 'no server-side round ran on the client\'s calls');
  });

  it('streamed: delta.tool_calls assemble (chat.completions.stream helper and by hand) into the same valid calls', async () => {
    const runner = client.chat.completions.stream({ model, messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, temperature: 1, seed: 11, max_tokens: 120 });
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    const calls = final.choices[0]!.message.tool_calls!;
    assert.equal(calls.length, 1);
    assertValidCall(calls[0]!, ['get_weather']);

    const same = await client.chat.completions.create({ model, messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, temperature: 1, seed: 11, max_tokens: 120, stream: true });
    const byIndex = new Map<number, { id?: string; name?: string; args: string }>();
    let finish: string | null = null;
    let headers = 0;
    for await (const chunk of same) {
      const ch = chunk.choices[0];
      if (!ch) continue;
      finish = ch.finish_reason ?? finish;
      for (const d of ch.delta.tool_calls ?? []) {
        const cur = byIndex.get(d.index) ?? { args: '' };
        if (d.id) { headers++; cur.id = d.id; cur.name = d.function?.name; }
        cur.args += d.function?.arguments ?? '';
        byIndex.set(d.index, cur);
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(headers, 1);
    // the same seed: the same call (another request, so another call id)
    const { id, ...rest } = byIndex.get(0)!;
    assert.match(id!, /^call_/);
    assert.deepEqual(rest, { name: 'get_weather', args: (calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments });
  });

  it('streamed required with parallel calls: each call has its index, id and name once, then argument fragments', async () => {
    const rs = await many(8, 8, async (seed) => {
      const final = await client.chat.completions.stream({ model, messages, tools, tool_choice: 'required', temperature: 1, seed, max_tokens: 200 }).finalChatCompletion();
      return final.choices[0]!;
    });
    for (const c of rs) {
      assert.equal(c.finish_reason, 'tool_calls');
      for (const call of c.message.tool_calls!) assertValidCall(call);
      assert.equal(new Set(c.message.tool_calls!.map((x) => x.id)).size, c.message.tool_calls!.length);
    }
  });

  it('auto and none on a model that does not call tools: a plain text answer, no tool_calls', async () => {
    // (non-strict tools: the stream helper refuses to parse strict ones cut at max_tokens)
    const loose = tools.map((t) => ({ ...t, function: { ...(t as OpenAI.ChatCompletionFunctionTool).function, strict: false } }));
    for (const tool_choice of ['auto', 'none'] as const) {
      const r = await client.chat.completions.create({ model, messages, tools: loose, tool_choice, temperature: 1, seed: 5, max_tokens: 12 });
      assert.equal(r.choices[0]!.message.tool_calls, undefined);
      assert.equal(typeof r.choices[0]!.message.content, 'string');
      assert.notEqual(r.choices[0]!.finish_reason, 'tool_calls');
      const streamed = await client.chat.completions.stream({ model, messages, tools: loose, tool_choice, temperature: 1, seed: 5, max_tokens: 12 }).finalChatCompletion();
      assert.equal(streamed.choices[0]!.message.content, r.choices[0]!.message.content);
    }
  });

  it('a call cut off by a stop string or max_tokens: a partial call, never markup; finish_reason stop / length, not tool_calls', async () => {
    // (non-strict tools: the stream helper refuses to parse strict ones cut at max_tokens, as OpenAI's)
    const loose = tools.map((t) => ({ ...t, function: { ...(t as OpenAI.ChatCompletionFunctionTool).function, strict: false } }));
    const named = { type: 'function' as const, function: { name: 'get_weather' } };
    type Seen = { content: string | null; calls: [string, string][]; finish: string | null };
    const whole = async (extra: object): Promise<Seen> => {
      const c = (await client.chat.completions.create({ model, messages, tools: loose, temperature: 1, seed: 3, ...extra })).choices[0]!;
      return { content: c.message.content || null, calls: (c.message.tool_calls ?? []).map((x) => [(x as OpenAI.ChatCompletionMessageFunctionToolCall).function.name, (x as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments]), finish: c.finish_reason };
    };
    const streamed = async (extra: object): Promise<Seen> => {
      const c = (await client.chat.completions.stream({ model, messages, tools: loose, temperature: 1, seed: 3, ...extra }).finalChatCompletion()).choices[0]!;
      return { content: c.message.content || null, calls: (c.message.tool_calls ?? []).map((x) => [x.function.name, x.function.arguments]), finish: c.finish_reason };
    };
    // the constrained envelope is `{"name": "get_weather", "arguments": {"city": …`: the stop cuts it after `{`
    for (const get of [whole, streamed]) {
      assert.deepEqual(await get({ tool_choice: named, stop: ['"city"'] }), { content: null, calls: [['get_weather', '{']], finish: 'stop' }, get.name);
    }
    // the random model answers auto in text; required and named are cut in the call at these budgets
    let partial = 0;
    for (const tool_choice of [named, 'required' as const, 'auto' as const]) {
      for (const max_tokens of [3, 30, 45, 60]) {
        const [a, b] = [await whole({ tool_choice, max_tokens }), await streamed({ tool_choice, max_tokens })];
        assert.deepEqual(b, a, `streamed as whole: ${JSON.stringify(tool_choice)} ${max_tokens}`);
        assert.ok(!(a.content ?? '').includes('<tool_call'), `no markup: ${JSON.stringify(a)}`);
        for (const [, args] of a.calls) assert.ok(args.startsWith('{'), `the arguments so far: ${JSON.stringify(a)}`);
        if (a.finish === 'tool_calls') assert.ok(a.calls.length > 0 && a.calls.every(([, args]) => JSON.parse(args)), JSON.stringify(a));
        else if (a.calls.length > 0) assert.equal(a.finish, 'length', JSON.stringify(a));
        if (a.finish === 'length' && a.calls.length > 0) partial++;
      }
    }
    assert.ok(partial >= 2, `calls cut in their arguments were seen (${partial})`);
  });

  it('response_format json_schema (nested, strict): 100 sampled answers at temperature 1 all validate; json_object gives an object', async () => {
    const response_format = { type: 'json_schema' as const, json_schema: { name: 'person', schema: personSchema, strict: true } };
    const rs = await many(100, 12, (seed) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'A person, please.' }], response_format, temperature: 1, seed, max_tokens: 150 }));
    for (const r of rs) {
      const text = r.choices[0]!.message.content!;
      assert.ok(person.safeParse(JSON.parse(text)).success, text);
      assert.equal(r.choices[0]!.finish_reason, 'stop');
    }
    const streamed = await client.chat.completions.stream({ model, messages, response_format, temperature: 1, seed: 2, max_tokens: 150 }).finalChatCompletion();
    assert.ok(person.safeParse(JSON.parse(streamed.choices[0]!.message.content!)).success);
    const obj = await client.chat.completions.create({ model, messages, response_format: { type: 'json_object' }, temperature: 1, seed: 1, max_tokens: 100 });
    const v = JSON.parse(obj.choices[0]!.message.content!);
    assert.ok(v && typeof v === 'object' && !Array.isArray(v));
  });

  // zodResponseFormat gives every z.number().int() the safe-integer bounds (minimum/maximum): before,
  // strict mode refused them (400 '"minimum" is not supported in strict mode'), though the grammar
  // writes no integer beyond them.
  it('chat.completions.parse with the client\'s zodResponseFormat (z.number().int(), nullable, arrays): parsed, valid', async () => {
    const Person = z.object({ name: z.string(), age: z.number().int(), scores: z.array(z.number().int()), rank: z.number().int().nullable() });
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.parse({ model, messages: [{ role: 'user', content: 'A person, please.' }], response_format: zodResponseFormat(Person, 'person'), temperature: 1, seed, max_tokens: 150 });
      const choice = r.choices[0]!;
      assert.equal(choice.finish_reason, 'stop');
      assert.ok(choice.message.parsed && Person.safeParse(choice.message.parsed).success, choice.message.content ?? '');
      assert.ok(Number.isSafeInteger(choice.message.parsed.age));
    }
    // a bound the grammar does not keep by itself is still refused in strict mode
    const bounded = zodResponseFormat(z.object({ age: z.number().int().min(0) }), 'bounded');
    await assert.rejects(client.chat.completions.create({ model, messages, response_format: bounded, max_tokens: 20 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'response_format.json_schema.schema' && /minimum/.test(e.message));
  });

  it('an unmodified SDK tool loop: call → run the tool client-side → role tool → final answer', async () => {
    const history: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'You can add numbers.' }, { role: 'user', content: 'What is 2 + 3?' }];
    // runTools runs the named function client-side with the parsed arguments and records the tool message
    let ran: unknown = null;
    const runner = client.chat.completions.runTools({
      model, messages: history, temperature: 1, seed: 4, max_tokens: 100,
      tool_choice: { type: 'function', function: { name: 'add' } },
      tools: [{ type: 'function', function: { name: 'add', description: 'Adds two numbers', parameters: addParams, parse: JSON.parse, function: (a: { a: number; b: number }) => { ran = a; return String(a.a + a.b); } } }],
    });
    await runner.done();
    assert.ok(ran && typeof ran === 'object', 'the SDK ran the tool');
    const sent = runner.messages;
    const assistant = sent.find((m) => m.role === 'assistant') as OpenAI.ChatCompletionAssistantMessageParam;
    const toolMsg = sent.find((m) => m.role === 'tool') as OpenAI.ChatCompletionToolMessageParam;
    assert.equal(toolMsg.tool_call_id, assistant.tool_calls![0]!.id);
    // the loop goes on with the tool's result: a final answer, no more calls
    const final = await client.chat.completions.create({ model, messages: sent as OpenAI.ChatCompletionMessageParam[], tools: [{ type: 'function', function: { name: 'add', parameters: addParams } }], tool_choice: 'none', temperature: 1, seed: 4, max_tokens: 10 });
    assert.equal(final.choices[0]!.message.tool_calls, undefined);
    assert.ok(final.choices[0]!.message.content!.length > 0);
    // the same loop by hand, with a streamed first call and two tool results
    const first = await client.chat.completions.stream({ model, messages: history, tools, tool_choice: 'required', temperature: 1, seed: 9, max_tokens: 200 }).finalChatCompletion();
    const msg = first.choices[0]!.message;
    const followUp: OpenAI.ChatCompletionMessageParam[] = [...history, { role: 'assistant', content: msg.content, tool_calls: msg.tool_calls }];
    for (const c of msg.tool_calls!) followUp.push({ role: 'tool', tool_call_id: c.id, content: JSON.stringify({ ok: true }) });
    const answer = await client.chat.completions.create({ model, messages: followUp, tools, temperature: 1, seed: 9, max_tokens: 10 });
    assert.equal(typeof answer.choices[0]!.message.content, 'string');
  });

  it('bad tool definitions, tool_choice and response_format are a 400 naming the parameter', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'strin' } } } } }] }, 'tools.[0].function.parameters'],
      [{ tools: [{ type: 'function', function: { name: 'f g' } }] }, 'tools.[0].function.name'],
      [{ tools: [{ type: 'retrieval' }] }, 'tools.[0].type'],
      [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, strict: true } }] }, 'tools.[0].function.parameters'],
      [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string' } } }] }, 'tools.[0].function.parameters'],
      [{ tools: [{ type: 'function', function: { name: 'f' } }, { type: 'function', function: { name: 'f' } }] }, 'tools.[1].function.name'],
      [{ tool_choice: 'required' }, 'tool_choice'],
      [{ tools, tool_choice: 'sometimes' }, 'tool_choice'],
      [{ tools, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice.function.name'],
      [{ tools, parallel_tool_calls: 'yes' }, 'parallel_tool_calls'],
      [{ response_format: { type: 'xml' } }, 'response_format.type'],
      [{ response_format: { type: 'json_schema', json_schema: { name: 'p', strict: true, schema: { type: 'object', properties: { a: { $ref: '#/x' } }, required: ['a'], additionalProperties: false } } } }, 'response_format.json_schema.schema'],
      [{ response_format: { type: 'json_schema', json_schema: { schema: { type: 'object' } } } }, 'response_format.json_schema.name'],
      [{ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f' } }] }, { role: 'tool', tool_call_id: 'c1', content: '1' }] }, 'messages.[1].tool_calls.[0].function.arguments'],
    ];
    for (const [extra, param] of cases) {
      try {
        await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra } as never);
        assert.fail(`expected a 400 for ${JSON.stringify(extra)}`);
      } catch (e) {
        assert.ok(e instanceof OpenAI.APIError, String(e));
        assert.equal(e.status, 400, JSON.stringify(extra));
        assert.equal(e.type, 'invalid_request_error');
        assert.equal(e.param, param, `${JSON.stringify(extra)} → ${e.message}`);
      }
    }
  });
});
