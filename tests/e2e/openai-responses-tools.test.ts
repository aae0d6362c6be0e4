import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { z } from 'zod';
import { signToken } from '../../read-api/auth.ts';
import { alice } from '../support/events.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

// Function tools on the Responses API through the official client's responses.create / stream /
// retrieve: function_call output items as OpenAI's types describe them (id, call_id, name,
// arguments, status), function_call_output input items recorded as the call's result, the same
// calls in history. The random-weight model at temperature 1 answers `required` with valid calls.
const addParams = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false };
const add: OpenAI.Responses.FunctionTool = { type: 'function', name: 'add', description: 'Adds two numbers', parameters: addParams, strict: true };
const weather: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: false };
const addArgs = z.object({ a: z.number(), b: z.number() }).strict();
type Call = OpenAI.Responses.ResponseFunctionToolCall;
const callsOf = (r: OpenAI.Responses.Response) => r.output.filter((o): o is Call => o.type === 'function_call');

describe('Responses API: function tools', () => {
  let server: TestServer;
  let client: OpenAI;
  const model = 'parley-tiny';
  before(async () => {
    server = await startTestServer({ env: { MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_MODEL: 'parley-tiny' } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await signToken(server.app.secret, alice, '1h', 'premium'), maxRetries: 0 });
  });
  after(async () => server?.stop());

  async function historyCalls(generationId: string, want: (cs: { id: string; status: string; result: string | null }[]) => boolean) {
    const gql = graphqlClient(server.url);
    const token = await server.token(alice);
    let calls: { id: string; name: string; arguments: string; status: string; result: string | null }[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await gql(token, 'query($id: ID!) { generation(id: $id) { toolCalls { id name arguments status result } } }', { id: generationId });
      calls = r.data?.generation?.toolCalls ?? [];
      if (want(calls)) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    return calls;
  }

  it('responses.create with tool_choice required: function_call items with valid arguments, in history; function_call_output continues and is recorded', async () => {
    // one call (parallel_tool_calls false): with parallel calls a random model may go on calling until
    // max_output_tokens, and the response is then (rightly) incomplete
    const r = await client.responses.create({ model, input: 'What is 2 + 3?', tools: [add, weather], tool_choice: 'required', parallel_tool_calls: false, temperature: 1, max_output_tokens: 160 });
    assert.equal(r.status, 'completed', JSON.stringify(r.output));
    const calls = callsOf(r);
    assert.equal(calls.length, 1);
    assert.equal(r.parallel_tool_calls, false, 'echoed');
    for (const c of calls) {
      assert.match(c.call_id, /^call_/);
      assert.match(c.id!, /^fc_/);
      assert.equal(c.status, 'completed');
      assert.ok(['add', 'get_weather'].includes(c.name));
      if (c.name === 'add') assert.ok(addArgs.safeParse(JSON.parse(c.arguments)).success, c.arguments);
    }
    assert.deepEqual(r.tools.map((t) => (t.type === 'function' ? t.name : t.type)), ['add', 'get_weather'], 'the request\'s tools, echoed');
    const generationId = r.id.replace(/^resp_/, '');
    const recorded = await historyCalls(generationId, (cs) => cs.length === calls.length);
    assert.deepEqual(recorded.map((c) => [c.id, c.status]), calls.map((c) => [c.call_id, 'requested']));
    // retrieve reads the same items back from the events
    const again = await client.responses.retrieve(r.id);
    assert.deepEqual(callsOf(again).map((c) => [c.call_id, c.name, c.arguments]), calls.map((c) => [c.call_id, c.name, c.arguments]));

    // the results go back as function_call_output items on the same conversation
    const next = await client.responses.create({
      model, previous_response_id: r.id, max_output_tokens: 16, tools: [add, weather],
      input: calls.map((c) => ({ type: 'function_call_output' as const, call_id: c.call_id, output: `result of ${c.name}` })),
    });
    assert.ok(['completed', 'incomplete'].includes(next.status ?? ''));
    const done = await historyCalls(generationId, (cs) => cs.every((c) => c.status === 'completed'));
    assert.deepEqual(done.map((c) => [c.id, c.status, c.result]), calls.map((c) => [c.call_id, 'completed', `result of ${c.name}`]));
    // stateless style (the whole input re-sent, function_call items included): recorded once, not refused
    const stateless = await client.responses.create({
      model, max_output_tokens: 8,
      input: [{ role: 'user', content: 'What is 2 + 3?' }, ...calls.map((c) => ({ type: 'function_call' as const, call_id: c.call_id, name: c.name, arguments: c.arguments })), ...calls.map((c) => ({ type: 'function_call_output' as const, call_id: c.call_id, output: 'again' }))],
    });
    assert.ok(stateless.id);
    const events = (await server.app.store.readStream(`generation-${generationId}`)).filter((e) => e.type === 'ToolCallCompleted');
    assert.equal(events.length, calls.length, 'each result once');
  });

  it('streamed with a named function: output_item.added, function_call_arguments.delta/done, output_item.done; the stream helper assembles the same call', async () => {
    const stream = client.responses.stream({ model, input: 'add 4 and 5', tools: [add, weather], tool_choice: { type: 'function', name: 'add' }, parallel_tool_calls: false, temperature: 1, max_output_tokens: 100 });
    const types: string[] = [];
    let deltas = '';
    let done: { arguments: string; name: string; output_index: number } | null = null;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.function_call_arguments.delta') deltas += e.delta;
      if (e.type === 'response.function_call_arguments.done') done = { arguments: e.arguments, name: e.name, output_index: e.output_index };
    }
    const final = await stream.finalResponse();
    const calls = callsOf(final);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.name, 'add');
    assert.ok(addArgs.safeParse(JSON.parse(calls[0]!.arguments)).success, calls[0]!.arguments);
    assert.equal(deltas, calls[0]!.arguments, 'the argument deltas are the arguments');
    assert.deepEqual(done, { arguments: calls[0]!.arguments, name: 'add', output_index: final.output.findIndex((o) => o.type === 'function_call') });
    assert.deepEqual(types.filter((t) => !t.endsWith('.delta')), [
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.function_call_arguments.done', 'response.output_item.done', 'response.completed',
    ]);
    assert.ok(!final.output.some((o) => o.type === 'message'), 'no empty message item before the call');
  });

  it('a call cut off at max_output_tokens: incomplete, the arguments so far, never the template markup in output_text (created, streamed, retrieved)', async () => {
    let partial = 0;
    for (const max_output_tokens of [3, 25, 40]) {
      const body = { model, input: 'Weather in Paris?', tools: [weather], tool_choice: { type: 'function' as const, name: 'get_weather' }, temperature: 1, max_output_tokens };
      const created = await client.responses.create(body);
      const streamed = await client.responses.stream(body).finalResponse();
      const retrieved = await client.responses.retrieve(created.id);
      for (const r of [created, streamed, retrieved]) {
        assert.equal(r.status, 'incomplete', JSON.stringify(r.output));
        assert.ok(!r.output_text.includes('<tool_call'), `no markup: ${JSON.stringify(r.output)}`);
        for (const c of callsOf(r)) assert.ok(c.name === 'get_weather' && c.arguments.startsWith('{'), JSON.stringify(c));
      }
      assert.deepEqual(callsOf(streamed).map((c) => c.arguments), callsOf(created).map((c) => c.arguments), 'streamed as created');
      if (callsOf(created).length) partial++;
    }
    assert.ok(partial >= 1, 'a call cut in its arguments was seen');
  });

  it('refuses hosted tools and bad function definitions with a 400 naming the parameter', async () => {
    const refused = async (body: Record<string, unknown>) => {
      try { await client.responses.create({ model, input: 'Hi', ...body } as never); } catch (error) { return error as InstanceType<typeof OpenAI.APIError>; }
      throw new Error('expected a 400');
    };
    const hosted = await refused({ tools: [{ type: 'file_search', vector_store_ids: ['x'] }] });
    assert.deepEqual([hosted.status, hosted.param], [400, 'tools.[0].type']);
    const badName = await refused({ tools: [{ type: 'function', name: 'no spaces', parameters: addParams, strict: false }] });
    assert.deepEqual([badName.status, badName.param], [400, 'tools.[0].name']);
    const badSchema = await refused({ tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: { x: { type: 'string', pattern: 'a+' } }, required: ['x'], additionalProperties: false }, strict: true }] });
    assert.deepEqual([badSchema.status, badSchema.param], [400, 'tools.[0].parameters']);
    const choice = await refused({ tools: [add], tool_choice: { type: 'function', name: 'nope' } });
    assert.deepEqual([choice.status, choice.param], [400, 'tool_choice.name']);
  });
});
