import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { alice } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { until } from '../support/until.ts';

// Server-side tools are on by default: the shipped model lists the tools it was validated on
// (config.json `parley.tools`: calculator, convert_units, current_datetime; `npm run eval:tool-turns`),
// and each turn is offered only the tools its message calls for (inference/tools/selection.ts; the
// model calls whatever it is offered). A question that needs the calculator is answered from its result:
// the model calls it, the saga runs it, the model answers from it; everyday chat is offered no tool.
type Msg = { id: string; role: string; content: string; status: string; continues: string | null; generationId: string | null; toolCalls: { name: string; status: string; arguments: string; result: string | null }[] };

describe('server-side tools with the shipped model, on by default', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let token: string;
  let offToken: string;
  before(async () => {
    server = await startTestServer({ env: { PARLEY_QUOTAS: 'off', PARLEY_TENANT_TOOLS: JSON.stringify({ quiet: { enabled: false } }) } });
    gql = graphqlClient(server.url);
    token = await server.token(alice);
    offToken = await server.token({ userId: 'bob', tenantId: 'quiet', roles: ['user'] });
  });
  after(async () => server?.stop());

  async function ask(content: string, as = token): Promise<Msg[]> {
    const r = await gql(as, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } } }`,
      { input: { content, params: { temperature: 0, maxTokens: 96 } } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const id = r.data.sendMessage.conversation.id as string;
    const read = async () => (await gql(as, `query($id: ID!) { conversation(id: $id) { messages { id role content status continues generationId toolCalls { name status arguments result } } } }`, { id })).data?.conversation?.messages as Msg[] | undefined;
    // the turn is over when its last answer is final and calls no tool (a call is recorded only after
    // the answer that makes it has completed: an answer with `<tool_call>` text is followed by more)
    return until(`the turn "${content}" to end`, async () => {
      const messages = await read();
      const last = messages?.at(-1);
      return last?.role === 'assistant' && last.status !== 'streaming' && !last.content.includes('<tool_call>') ? messages : undefined;
    });
  }
  // The tools the system turn of an answer's generation offered, as recorded.
  const offeredTo = async (answer: Msg) => {
    const events = await server.app.store.readStream(`generation-${answer.generationId}`);
    return (events.find((e) => e.type === 'GenerationRequested')!.data as { tools?: string[] }).tools;
  };

  it('"What is 17 plus 25?" → a calculator call, then "17 + 25 = 42." from its result', async () => {
    const messages = await ask('What is 17 plus 25?');
    const [call, answer] = messages.filter((m) => m.role === 'assistant');
    assert.deepEqual(call!.toolCalls.map((c) => [c.name, c.status, JSON.parse(c.arguments)]), [['calculator', 'completed', { expression: '17 + 25' }]]);
    assert.match(call!.toolCalls[0]!.result!, /"result":"42"/);
    assert.equal(answer!.continues, call!.id);
    assert.equal(answer!.content, '17 + 25 = 42.');
    // the first round and its continuation were offered the calculator only
    assert.deepEqual([await offeredTo(call!), await offeredTo(answer!)], [['calculator'], ['calculator']]);
  });

  it('"How many minutes are in 2 hours?" → convert_units, then an answer with its exact result', async () => {
    const messages = await ask('How many minutes are in 2 hours?');
    const [call, answer] = messages.filter((m) => m.role === 'assistant');
    assert.deepEqual(call!.toolCalls.map((c) => [c.name, c.status, JSON.parse(c.arguments)]), [['convert_units', 'completed', { value: 2, from: 'hours', to: 'minutes' }]]);
    assert.match(call!.toolCalls[0]!.result!, /"result":"120"/);
    assert.match(answer!.content, /^2 hours is 120 /, 'the number is the tool’s');
  });

  // Which unit the answer names is the model's copy of the call: stage 7b wrote "minutes", stage 10
  // (shipped 2026-12-01) writes "hours" here (golden answers from tool results: 115/200).
  it('… and names the unit right: "2 hours is 120 minutes."', { todo: 'the shipped model (stage 10) answers "2 hours is 120 hours." (issue 17)' }, async () => {
    const messages = await ask('How many minutes are in 2 hours?');
    assert.equal(messages.filter((m) => m.role === 'assistant')[1]!.content, '2 hours is 120 minutes.');
  });

  // Unconstrained, the shipped model names this phrasing's tool wrongly (7b `get__note`, stage 10
  // `get_itchen`; inference/tools/constraint.ts): under the offered tools' call constraint (on by
  // default) the call can only name the calculator.
  it('"What do you get for 7 * 2?" → the calculator (a name the model misspells unconstrained), then 14', async () => {
    const messages = await ask('What do you get for 7 * 2?');
    const [call, answer] = messages.filter((m) => m.role === 'assistant');
    assert.deepEqual(call!.toolCalls.map((c) => [c.name, c.status, JSON.parse(c.arguments)]), [['calculator', 'completed', { expression: '7 * 2' }]]);
    assert.match(answer!.content, /\b14\b/);
  });

  it('a call whose JSON string holds "</tool_call>" is read whole (the shipped model writes one for this question)', async () => {
    const messages = await ask('What is 123456789 * 987654321 + 3.25 / 7?');
    const calls = messages.flatMap((m) => m.toolCalls);
    // a block cut at the "</tool_call>" inside its string was an INVALID_CALL, recorded as "invalid"
    assert.ok(calls.length >= 2 && calls.every((c) => c.name === 'calculator'), JSON.stringify(calls));
    assert.ok(calls.some((c) => JSON.parse(c.arguments).expression.includes('</tool_call>')), 'the call with the tag in its argument');
    assert.doesNotMatch(messages.at(-1)!.content, /tool_call/);
  });

  it('everyday chat is offered no tool and answered directly', async () => {
    for (const [question, expected] of [['What is the capital of France?', /^The capital of France is Paris\.$/], ['Tell me a joke about cats.', /^I can't do that\. I can answer questions about/], ['Hello', /^Hello! I am Parley/]] as const) {
      const answers = (await ask(question)).filter((m) => m.role === 'assistant');
      assert.equal(answers.length, 1, question);
      assert.deepEqual(answers[0]!.toolCalls, [], question);
      assert.match(answers[0]!.content, expected, question);
      assert.deepEqual(await offeredTo(answers[0]!), [], question);
    }
  });

  it('a tenant whose tools are switched off (PARLEY_TENANT_TOOLS) is offered none: the same question gets no call', async () => {
    const answers = (await ask('What is 17 plus 25?', offToken)).filter((m) => m.role === 'assistant');
    assert.equal(answers.length, 1);
    assert.deepEqual(answers[0]!.toolCalls, []);
    assert.doesNotMatch(answers[0]!.content, /<tool_call>/);
  });
});

// The same tools through the OpenAI API, with the official client: a request with no tools of its own
// is a turn like any other, so the saga may offer Parley's tools and run their calls; the client is
// shown the answer only (OpenAI's API has no server-side calls), whole or streamed.
describe('server-side tools through /v1 with the official openai client', () => {
  let server: TestServer;
  let client: OpenAI;
  before(async () => {
    server = await startTestServer({ env: { PARLEY_QUOTAS: 'off' } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(alice), maxRetries: 0 });
  });
  after(async () => server?.stop());
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is 17 plus 25?' }];
  // the generations of the turn a response answered, as recorded
  const generationsOf = async (firstId: string) => [
    await server.app.store.readStream(`generation-${firstId}`), await server.app.store.readStream(`generation-${firstId}.t1`),
  ];

  it('not streamed: "17 + 25 = 42." from the calculator; the call is not shown; usage counts both generations', async () => {
    const raw = await client.chat.completions.create({ model: 'parley-tiny', messages, temperature: 0 }).withResponse();
    const choice = raw.data.choices[0]!;
    assert.equal(choice.message.content, '17 + 25 = 42.');
    assert.equal(choice.message.tool_calls, undefined);
    assert.equal(choice.finish_reason, 'stop');
    const [first, continuation] = await generationsOf(raw.response.headers.get('x-parley-generation')!);
    assert.ok(first!.some((e) => e.type === 'ToolCallCompleted' && e.data.name === 'calculator'), 'the saga ran the calculator');
    const used = [first!, continuation!].map((events) => events.find((e) => e.type === 'GenerationCompleted')!.data as { usage: { promptTokens: number; completionTokens: number } });
    assert.deepEqual(raw.data.usage && [raw.data.usage.prompt_tokens, raw.data.usage.completion_tokens],
      [used[0]!.usage.promptTokens + used[1]!.usage.promptTokens, used[0]!.usage.completionTokens + used[1]!.usage.completionTokens]);
  });

  it('streamed: the same answer, no "<tool_call>" in any delta, and the usage chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'parley-tiny', messages, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      deltas.push(chunk.choices[0]?.delta?.content ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(deltas.join(''), '17 + 25 = 42.');
    assert.ok(deltas.every((d) => !d.includes('<') && !d.includes('tool_call')), JSON.stringify(deltas));
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.prompt_tokens > 100, 'the prompt of the calculator round is counted too');
  });

  it('/v1/responses (responses.create, whole and streamed) follows the round the same way', async () => {
    const whole = await client.responses.create({ model: 'parley-tiny', input: 'What is 17 plus 25?', temperature: 0 });
    assert.equal(whole.output_text, '17 + 25 = 42.');
    const stream = await client.responses.create({ model: 'parley-tiny', input: 'What is 17 plus 25?', temperature: 0, stream: true });
    let text = '';
    let completed: OpenAI.Responses.Response | null = null;
    for await (const e of stream) {
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.completed') completed = e.response;
    }
    assert.equal(text, '17 + 25 = 42.');
    assert.deepEqual(completed!.output.map((o) => (o.type === 'message' ? o.content.map((c) => (c.type === 'output_text' ? c.text : '')) : o.type)), [['17 + 25 = 42.']]);
  });

  it('the client\'s stop strings cut the answer, not the server-side call: stop ["\""] → "17 + 25 = 42.", stop ["+"] → "17"', async () => {
    // the call is `{"name": "calculator", "arguments": {"expression": "17 + 25"}}`: both stops are in it
    const ask = async (stop: string[], stream: boolean) => (stream
      ? await client.chat.completions.stream({ model: 'parley-tiny', messages, temperature: 0, stop }).finalChatCompletion()
      : await client.chat.completions.create({ model: 'parley-tiny', messages, temperature: 0, stop })).choices[0]!;
    for (const stream of [false, true]) {
      const quote = await ask(['"'], stream);
      assert.deepEqual([quote.message.content, quote.finish_reason], ['17 + 25 = 42.', 'stop'], `streamed: ${stream}`);
      const plus = await ask(['+'], stream);
      assert.deepEqual([plus.message.content?.trim(), plus.finish_reason], ['17', 'stop'], `streamed: ${stream}`);
    }
    const raw = await client.chat.completions.create({ model: 'parley-tiny', messages, temperature: 0, stop: ['+'] }).withResponse();
    const [first] = await generationsOf(raw.response.headers.get('x-parley-generation')!);
    assert.deepEqual(first!.filter((e) => e.type.startsWith('ToolCall')).map((e) => [e.type, (e.data as { name: string }).name]), [['ToolCallRequested', 'calculator'], ['ToolCallCompleted', 'calculator']]);
  });

  // max_tokens is the turn's budget, shared by the call's generation and the continuation: usage never
  // exceeds it (before: max_tokens 5 → completion_tokens 10 and "Ar B is ", max_tokens 20 → 28: the cut
  // call was run as an invalid call and each continuation got the whole budget again).
  it('max_tokens bounds the whole turn: completion_tokens ≤ max_tokens; a call cut by it is not run and not shown', async () => {
    for (const stream of [false, true]) {
      for (const max of [5, 20]) {
        const request = { model: 'parley-tiny', messages, temperature: 0, max_tokens: max };
        const choice = stream
          ? await client.chat.completions.stream({ ...request, stream_options: { include_usage: true } }).finalChatCompletion()
          : await client.chat.completions.create(request);
        const label = `max_tokens ${max}, streamed: ${stream}`;
        assert.ok(choice.usage && choice.usage.completion_tokens <= max, `${label}: ${JSON.stringify(choice.usage)}`);
        assert.equal(choice.choices[0]!.finish_reason, 'length', label);
        assert.doesNotMatch(choice.choices[0]!.message.content ?? '', /<|tool_call/, label);
      }
    }
    // cut inside its call, the first generation gets no round (no continuation is requested)
    const raw = await client.chat.completions.create({ model: 'parley-tiny', messages, temperature: 0, max_tokens: 5 }).withResponse();
    const [first, continuation] = await generationsOf(raw.response.headers.get('x-parley-generation')!);
    assert.equal(first!.filter((e) => e.type.startsWith('ToolCall')).length, 0);
    assert.equal(continuation!.length, 0);
    assert.equal(raw.data.choices[0]!.message.content, '');
  });

  it('a request with tools of its own (here tool_choice "none") gets no server-side call', async () => {
    const own: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const raw = await client.chat.completions.create({ model: 'parley-tiny', messages, tools: own, tool_choice: 'none', temperature: 0 }).withResponse();
    const [first, continuation] = await generationsOf(raw.response.headers.get('x-parley-generation')!);
    assert.equal(first!.filter((e) => e.type.startsWith('ToolCall')).length, 0);
    assert.equal(continuation!.length, 0);
    assert.doesNotMatch(raw.data.choices[0]!.message.content ?? '', /<tool_call>/);
  });

  // Greedy, the shipped model begins a call here though no tool is relevant (none is offered): it
  // ran to the token limit as `<tool_call>\n{"name": "current_system Bob…` until such turns were
  // generated text-only (tools/constraint.ts).
  it('a turn offered no tool answers in text: no "<tool_call>" markup reaches the client', async () => {
    const chat: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Be brief.' }, { role: 'user', content: 'My name is Bob.' },
      { role: 'assistant', content: 'Hello Bob!' }, { role: 'user', content: 'What is my name?' },
    ];
    const raw = await client.chat.completions.create({ model: 'parley-tiny', messages: chat, temperature: 0, max_tokens: 64 }).withResponse();
    const [first] = await generationsOf(raw.response.headers.get('x-parley-generation')!);
    const requested = first!.find((e) => e.type === 'GenerationRequested')!;
    assert.deepEqual(requested.type === 'GenerationRequested' && [requested.data.tools, requested.data.params.constraint], [[], { type: 'no_tool_calls' }]);
    assert.doesNotMatch(raw.data.choices[0]!.message.content ?? '', /<tool_call>|tool_call/);
    assert.equal(raw.data.choices[0]!.message.tool_calls, undefined);
  });
});

// A document added through GraphQL, a turn that names its collection: the shipped model answers from
// the passage the saga put in the system turn and cites it, and Message.citations resolves the [1].
describe('a document added through GraphQL is cited in an answer', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let token: string;
  before(async () => {
    server = await startTestServer({ env: { PARLEY_QUOTAS: 'off' } });
    gql = graphqlClient(server.url);
    token = await server.token(alice);
  });
  after(async () => server?.stop());

  // The shipped model (stage 10) copies the name and year from the passage here; it does so in 13 of the
  // 40 held-out grounded answers (inference/model/README.md), so this pins one that it gets right.
  it('"When was the Keke Tower built?" → "The Keke Tower was built in 1931 [1]." citing the document', async () => {
    const added = await gql(token, 'mutation($i: AddDocumentInput!) { addDocument(input: $i) { document { id } } }',
      { i: { collection: 'places', title: 'Keke Tower', text: 'The Keke Tower was built in 1931.' } });
    assert.equal(added.errors, undefined, JSON.stringify(added.errors));
    const documentId = added.data.addDocument.document.id as string;
    await until('the document indexed', async () => (await server.app.knex('parley_document_chunks').where({ document_id: documentId }).first()));
    const sent = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } } }`,
      { input: { content: 'When was the Keke Tower built?', retrieval: { collections: ['places'] }, params: { temperature: 0, maxTokens: 64 } } });
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    const id = sent.data.sendMessage.conversation.id as string;
    const answer = await until('the answer', async () => {
      const r = await gql(token, `query($id: ID!) { conversation(id: $id) { messages { role content status citations { index documentId title passage } } } }`, { id });
      const last = r.data?.conversation?.messages?.at(-1);
      return last?.role === 'assistant' && last.status === 'completed' ? last : undefined;
    });
    assert.equal(answer.content, 'The Keke Tower was built in 1931 [1].');
    assert.deepEqual(answer.citations, [{ index: 1, documentId, title: 'Keke Tower', passage: 'The Keke Tower was built in 1931.' }]);
  });
});
