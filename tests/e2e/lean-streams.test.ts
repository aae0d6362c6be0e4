import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { alice } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks, textOf } from '../support/sse.ts';

// Streams carry text or their end, nothing else (the output filter's held-back tokens are not sent
// as empty chunks); resuming after any token index gives exactly the rest of the text; and the end
// names its position in the event log, so a read with consistentWith sees the finished generation.
describe('lean streams and read-your-writes after the end', () => {
  let server: TestServer;
  let token: string;
  let gql: ReturnType<typeof graphqlClient>;

  before(async () => {
    // Plain text turns: what is checked is how text chunks stream and resume. With the server-side
    // tools on, the model may answer with a call, whose progress chunks carry no text (web-tool-calls
    // and saga-tool-calls test those).
    server = await startTestServer({ env: { PARLEY_MODEL: 'parley-tiny', PARLEY_TOOLS: 'off' } });
    token = await server.token(alice);
    gql = graphqlClient(server.url);
  });
  after(async () => {
    await server?.stop();
  });

  // The finished generation as the log has it: the latest attempt's text, where each token's text
  // ends within it, and the terminal event's position.
  async function logged(generationId: string) {
    const events = await server.app.store.readStream(`generation-${generationId}`);
    const end = events.findLast((e) => e.type === 'GenerationCompleted' || e.type === 'GenerationFailed' || e.type === 'GenerationCancelled')!;
    const attempt = end.type === 'GenerationCompleted' ? end.data.attempt : 1;
    let text = '';
    const endOf = new Map<number, number>(); // token index → length of the text up to and including it
    for (const e of events) {
      if (e.type !== 'TokensGenerated' || e.data.attempt !== attempt) continue;
      const { firstIndex, tokenCount, textOffsets } = e.data;
      for (let i = 0; i < tokenCount; i++) endOf.set(firstIndex + i, text.length + (textOffsets?.[i + 1] ?? e.data.text.length));
      text += e.data.text;
    }
    return { text, endOf, position: end.position, attempt };
  }

  it('GraphQL: every chunk before the end carries text; resuming after any token gives exactly the rest; the end\'s position serves consistentWith', async () => {
    for (const singleConnection of [false, true]) {
      const sent = await gql(token, 'mutation { sendMessage(input: { content: "Tell me about the sea, in a few sentences.", params: { maxTokens: 48 } }) { generation { id } } }');
      const id = sent.data.sendMessage.generation.id as string;
      const chunks = await streamChunks(server.url, token, id, { singleConnection });
      const done = chunks.at(-1)!;
      assert.equal(done.done, true);
      const body = chunks.slice(0, -1);
      assert.deepEqual(body.filter((c) => c.delta === ''), [], 'no empty chunks');
      assert.ok(body.every((c, i) => i === 0 || c.index > body[i - 1]!.index), 'indexes increase');
      const log = await logged(id);
      assert.equal(textOf(chunks), log.text);
      assert.equal(done.position, log.position, 'the end names its terminal event');

      // Read-your-writes: with the end's position the read model has the finished generation.
      const read = await gql(token, 'query($id: ID!, $at: String) { generation(id: $id, consistentWith: $at) { status content } }', { id, at: done.position });
      assert.equal(read.errors, undefined);
      assert.equal(read.data.generation.status, 'completed');

      // Resume after every token index: the rest of the text, exactly, and still no empty chunk.
      for (const [index, upTo] of log.endOf) {
        const rest = await streamChunks(server.url, token, id, { afterIndex: index, attempt: log.attempt, singleConnection });
        assert.deepEqual(rest.slice(0, -1).filter((c) => c.delta === ''), [], `after ${index}: no empty chunks`);
        assert.equal(textOf(rest), log.text.slice(upTo), `after ${index}`);
        assert.equal(rest.at(-1)!.done, true);
      }
    }
  });

  it('the OpenAI endpoint: the final chunk carries x_parley_position, a non-streamed answer X-Parley-Position', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 16, stream: true }).withResponse();
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk as typeof chunk & { x_parley_position?: string });
    const generationId = response.headers.get('x-parley-generation')!;
    const finish = chunks.find((c) => c.choices[0]?.finish_reason)!;
    assert.equal(finish.x_parley_position, (await logged(generationId)).position);
    // Between the role chunk and the finish chunk, every chunk has text.
    assert.deepEqual(chunks.slice(1).filter((c) => c.choices[0] && !c.choices[0].finish_reason && !c.choices[0].delta.content), []);

    const plain = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Hello again' }], max_tokens: 8 }).withResponse();
    const position = plain.response.headers.get('x-parley-position');
    assert.equal(position, (await logged(plain.response.headers.get('x-parley-generation')!)).position);
    const read = await gql(token, 'query($id: ID!, $at: String) { generation(id: $id, consistentWith: $at) { status content } }', { id: plain.response.headers.get('x-parley-generation'), at: position });
    assert.equal(read.data.generation.status, 'completed');
    assert.equal(read.data.generation.content, plain.data.choices[0]!.message.content);
  });
});
