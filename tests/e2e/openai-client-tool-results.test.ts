import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { signToken } from '../../read-api/auth.ts';
import { loadModel } from '../../inference/engine/model.ts';
import { unpackTokenIds } from '../../schemas/prompt.ts';
import { alice, bob, compliance } from '../support/events.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

// The client's own tool results are events: the official client's runTools loop (unmodified) runs
// the client's functions and re-sends the whole history every round; each result lands once, as
// ToolCallCompleted on the call Parley recorded, visible in GraphQL history and in the audit.
// The random-weight model answers `tool_choice: required` with valid calls every time.
const addParams = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false };
const weatherParams = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
type Call = { id: string; name: string; arguments: string; result: string | null; status: string; latencyMs: number | null };

describe('OpenAI client tool results are recorded (ToolCallCompleted)', () => {
  let server: TestServer;
  let client: OpenAI;
  let gql: ReturnType<typeof graphqlClient>;
  const model = 'parley-tiny';
  before(async () => {
    server = await startTestServer({ env: { MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_MODEL: 'parley-tiny' } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await signToken(server.app.secret, alice, '1h', 'premium'), maxRetries: 0 });
    gql = graphqlClient(server.url);
  });
  after(async () => server?.stop());

  /** a generation's calls as GraphQL shows them, once the history read model has `want` of them in `status` */
  async function callsOf(generationId: string, want: (calls: Call[]) => boolean): Promise<Call[]> {
    const token = await server.token(alice);
    let calls: Call[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await gql(token, 'query($id: ID!) { generation(id: $id) { toolCalls { id name arguments result status latencyMs } } }', { id: generationId });
      calls = r.data?.generation?.toolCalls ?? [];
      if (want(calls)) return calls;
      await new Promise((res) => setTimeout(res, 50));
    }
    return calls;
  }
  const resultEvents = async (generationId: string) => (await server.app.store.readStream(`generation-${generationId}`)).filter((e) => e.type === 'ToolCallCompleted');

  it('runTools: every call of every round and every result it sent back are in history (completed, the result) and in the audit (no content), each once', async () => {
    const ran: { id: string; content: string }[] = [];
    let n = 0;
    const runner = client.chat.completions.runTools({
      model, temperature: 1, seed: 3, max_tokens: 120, tool_choice: 'required',
      messages: [{ role: 'system', content: 'Use the tools.' }, { role: 'user', content: 'What is 2 + 3, and the weather in Oslo?' }],
      tools: [
        { type: 'function', function: { name: 'add', description: 'Adds two numbers', parameters: addParams, parse: JSON.parse, function: (a: { a: number; b: number }) => ({ sum: a.a + a.b, n: n++ }) } },
        { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: weatherParams, parse: JSON.parse, function: (a: { city: string }) => `sunny in ${a.city} #${n++}` } },
      ],
    }, { maxChatCompletions: 3 });
    runner.on('message', (m) => { if (m.role === 'tool') ran.push({ id: m.tool_call_id, content: String(m.content) }); });
    await runner.done();
    const completions = runner.allChatCompletions();
    assert.equal(completions.length, 3, 'tool_choice required: every round calls, up to maxChatCompletions');
    const generations = completions.map((c) => c.id.replace(/^chatcmpl-/, ''));
    const sentBack = new Map(ran.map((r) => [r.id, r.content]));
    // the last round's results are run by the client but never sent (runTools stops): they stay requested
    const lastIds = new Set(completions[2]!.choices[0]!.message.tool_calls!.map((c) => c.id));
    let completedTotal = 0;
    for (const [round, generationId] of generations.entries()) {
      const made = completions[round]!.choices[0]!.message.tool_calls!.filter((c) => c.type === 'function');
      const expectedDone = round < 2 ? made.length : 0;
      const calls = await callsOf(generationId, (cs) => cs.length === made.length && cs.filter((c) => c.status === 'completed').length === expectedDone);
      assert.deepEqual(calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })), made.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })), `round ${round + 1}: every call as the client received it`);
      for (const c of calls) {
        if (lastIds.has(c.id)) {
          assert.equal(c.status, 'requested', 'a result never sent is not invented');
          continue;
        }
        assert.equal(c.status, 'completed', `round ${round + 1}: ${c.id}`);
        assert.equal(c.result, sentBack.get(c.id), 'the result, exactly as the client\'s function returned it');
        assert.ok(c.latencyMs !== null && c.latencyMs >= 0);
        completedTotal++;
      }
      // round 1's results were re-sent with round 2's request (the whole history): still one event each
      const events = await resultEvents(generationId);
      assert.equal(events.length, expectedDone, 'one ToolCallCompleted per result, however often it was re-sent');
    }
    assert.ok(completedTotal >= 2);

    // the audit (compliance): a completed row per result, attributed to alice, no content
    const token = await server.token(compliance);
    let rows: { eventType: string; verdict: string; toolName: string; userId: string; generationId: string }[] = [];
    for (let i = 0; i < 200 && rows.length < completedTotal; i++) {
      const r = await gql(token, 'query { auditLog(filter: { eventType: "ToolCallCompleted" }, first: 100) { edges { node { eventType verdict toolName userId generationId } } } }');
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      rows = r.data.auditLog.edges.map((e: { node: typeof rows[number] }) => e.node).filter((x: typeof rows[number]) => generations.includes(x.generationId));
      if (rows.length < completedTotal) await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(rows.length, completedTotal, 'an audit row per recorded result');
    assert.ok(rows.every((r) => r.verdict === 'completed' && r.userId === alice.userId && ['add', 'get_weather'].includes(r.toolName)));
    const audit = await server.app.knex('audit_log').where({ event_type: 'ToolCallCompleted' }).whereIn('generation_id', generations);
    const leaked = JSON.stringify(audit);
    for (const content of sentBack.values()) assert.ok(!leaked.includes(content), 'no result text in the audit');
    // sealed at rest like a server-side result
    const raw = await server.app.knex('parley_events').whereIn('stream_id', generations.map((g) => `generation-${g}`)).where({ type: 'ToolCallCompleted' }).select('data');
    assert.equal(raw.length, completedTotal);
    for (const r of raw) assert.ok(typeof r.data.result === 'object' && 'ct' in r.data.result, 'the result is sealed in the log');
  });

  it('runTools streamed: the calls of the streamed answers and the results sent back are recorded the same way', async () => {
    const sent = new Map<string, string>();
    const runner = client.chat.completions.runTools({
      model, temperature: 1, seed: 8, max_tokens: 100, tool_choice: 'required', stream: true,
      messages: [{ role: 'user', content: 'What is 1 + 1?' }],
      tools: [{ type: 'function', function: { name: 'add', description: 'Adds two numbers', parameters: addParams, parse: JSON.parse, function: (a: { a: number; b: number }) => String(a.a + a.b) } }],
    }, { maxChatCompletions: 2 });
    runner.on('message', (m) => { if (m.role === 'tool') sent.set(m.tool_call_id, String(m.content)); });
    await runner.done();
    const [first, second] = runner.allChatCompletions();
    const firstCalls = first!.choices[0]!.message.tool_calls!.filter((c) => c.type === 'function');
    assert.ok(firstCalls.length >= 1 && second);
    const calls = await callsOf(first!.id.replace(/^chatcmpl-/, ''), (cs) => cs.length === firstCalls.length && cs.every((c) => c.status === 'completed'));
    assert.deepEqual(calls.map((c) => [c.id, c.name, c.arguments, c.status, c.result]), firstCalls.map((c) => [c.id, 'add', c.function.arguments, 'completed', sent.get(c.id)]));
  });

  it('an unknown tool_call_id, someone else\'s call id and a re-sent result never fail the request; nothing is invented', async () => {
    const first = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'add 1 and 2' }], tools: [{ type: 'function', function: { name: 'add', parameters: addParams } }], tool_choice: 'required', temperature: 1, seed: 9, max_tokens: 100 });
    const made = first.choices[0]!.message.tool_calls!.filter((c) => c.type === 'function');
    const generationId = first.id.replace(/^chatcmpl-/, '');
    const history: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'add 1 and 2' }, first.choices[0]!.message as OpenAI.ChatCompletionMessageParam,
      ...made.map((c) => ({ role: 'tool' as const, tool_call_id: c.id, content: '3' })),
    ];
    // bob sends alice's call ids back: a 200, and alice's calls stay unanswered
    const bobClient = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await signToken(server.app.secret, bob, '1h', 'premium'), maxRetries: 0 });
    const forged = await bobClient.chat.completions.create({ model, messages: history, max_tokens: 8 });
    assert.ok(forged.choices[0]);
    assert.equal((await resultEvents(generationId)).length, 0, 'another user cannot answer alice\'s calls');
    // alice: recorded once, then re-sent twice (the second time with another text: the first stays)
    await client.chat.completions.create({ model, messages: history, max_tokens: 8 });
    await client.chat.completions.create({ model, messages: [...history, { role: 'user', content: 'thanks' }], max_tokens: 8 });
    const edited = history.map((m) => (m.role === 'tool' ? { ...m, content: '4' } : m));
    await client.chat.completions.create({ model, messages: edited, max_tokens: 8 });
    const events = await resultEvents(generationId);
    assert.equal(events.length, made.length, 'one result per call');
    assert.ok(events.every((e) => e.type === 'ToolCallCompleted' && e.data.result === '3'), 'the first result recorded stays');
    // ids Parley never issued: the request goes on (the model reads the result as sent)
    const unknown = await client.chat.completions.create({ model, max_tokens: 8, messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }, { id: 'call_nosuchgeneration_0', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_abc123', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_nosuchgeneration_0', content: 'rain' },
    ] });
    assert.ok(unknown.choices[0]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const count = (outcome: string) => Number(new RegExp(`parley_openai_tool_results_total\\{outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.ok(count('unknown') >= 2 + made.length, 'bob\'s forged ids and the never-issued ones counted as unknown');
    assert.ok(count('duplicate') >= 2 * made.length, 're-sent results counted as duplicates');
  });

  it('X-Parley-Conversation: each request offers its own tools (not stored in the conversation), and its tool results are recorded too', async () => {
    const tokenizer = loadModel(RANDOM_MODEL_DIR).tokenizer;
    const promptOf = async (generationId: string) => {
      const requested = (await server.app.store.readStream(`generation-${generationId}`)).find((e) => e.type === 'GenerationRequested');
      assert.ok(requested?.type === 'GenerationRequested' && requested.data.prompt);
      return tokenizer.decode(unpackTokenIds(requested.data.prompt)!, { skipSpecialTokens: false });
    };
    // the section's own <tools>…</tools> (its preamble names the tags too: "within <tools></tools> XML tags")
    const toolsSection = (prompt: string) => /<tools>\n([\s\S]*?)\n<\/tools>/.exec(prompt)?.[1] ?? null;
    const add: OpenAI.ChatCompletionTool = { type: 'function', function: { name: 'add', description: 'Adds two numbers', parameters: addParams } };
    const weather: OpenAI.ChatCompletionTool = { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: weatherParams } };
    const first = await client.chat.completions.create({ model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'add 2 and 2' }], tools: [add], tool_choice: 'required', temperature: 1, seed: 4, max_tokens: 80 }).withResponse();
    const conversationId = first.response.headers.get('x-parley-conversation')!;
    const g1 = first.data.id.replace(/^chatcmpl-/, '');
    assert.match(toolsSection(await promptOf(g1)) ?? '', /"name": "add"/);
    const started = (await server.app.store.readStream(`conversation-${conversationId}`)).find((e) => e.type === 'ConversationStarted');
    assert.ok(started?.type === 'ConversationStarted');
    assert.equal(started.data.systemPrompt, 'Be brief.', 'the tools are the turn\'s, not the conversation\'s system prompt');
    const [raw] = await server.app.knex('parley_events').where({ stream_id: `conversation-${conversationId}`, type: 'MessageSubmitted' }).select('data');
    assert.ok(typeof raw.data.toolsPrompt === 'object' && 'ct' in raw.data.toolsPrompt, 'the turn\'s tools section is sealed at rest like its content');

    // the next request continues it with OTHER tools and the first call's result
    const call = first.data.choices[0]!.message.tool_calls![0]!;
    const headers = { 'X-Parley-Conversation': conversationId };
    const second = await client.chat.completions.create({
      model, tools: [weather], tool_choice: 'required', temperature: 1, seed: 5, max_tokens: 80,
      messages: [{ role: 'user', content: 'add 2 and 2' }, first.data.choices[0]!.message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: '4' }],
    }, { headers });
    const g2 = second.id.replace(/^chatcmpl-/, '');
    const section = toolsSection(await promptOf(g2));
    assert.ok(section, 'the continued conversation offers tools');
    assert.match(section, /"name": "get_weather"/);
    assert.doesNotMatch(section, /"name": "add"/, 'this request\'s tools, not the first one\'s');
    assert.ok(second.choices[0]!.message.tool_calls!.every((c) => c.type === 'function' && c.function.name === 'get_weather'));
    assert.equal((await callsOf(g1, (cs) => cs.some((c) => c.status === 'completed'))).find((c) => c.id === call.id)?.result, '4', 'the result sent on the continued conversation is recorded');

    // without tools, none are offered
    const third = await client.chat.completions.create({ model, max_tokens: 8, messages: [{ role: 'user', content: 'thanks' }] }, { headers });
    assert.equal(toolsSection(await promptOf(third.id.replace(/^chatcmpl-/, ''))), null);
  });
});
