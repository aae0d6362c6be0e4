import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// One intake: GraphQL's sendMessage and the OpenAI endpoint record a new turn the same way —
// ConversationStarted and MessageSubmitted in one append, titled by the message's opening.

// 59 letters then an emoji: a title cut at 60 UTF-16 units would end in half of it.
const CONTENT = `${'a'.repeat(59)}\u{1F600} and more`;

describe('one intake for GraphQL and OpenAI turns', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer();
    token = await server.token({ userId: 'intake', tenantId: 'acme', roles: ['user'] });
  });
  after(async () => server?.stop());

  async function opening(conversationId: string) {
    const events = await server.app.store.readStream(`conversation-${conversationId}`);
    const [started, submitted] = events;
    assert.equal(started?.type, 'ConversationStarted');
    assert.equal(submitted?.type, 'MessageSubmitted');
    // One append: one transaction, so both carry its id in their positions.
    assert.equal(started.position.split('/')[0], submitted.position.split('/')[0]);
    return { title: (started.data as { title: string }).title, content: (submitted.data as { content: string }).content };
  }

  it('both record start + submit in one append, with a title cut on a character boundary', async () => {
    const gql = await graphqlClient(server.url)(token, `mutation($c: String!) { sendMessage(input: { content: $c, params: { maxTokens: 1 } }) { conversation { id } } }`, { c: CONTENT });
    assert.equal(gql.errors, undefined, JSON.stringify(gql.errors));
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const viaOpenAi = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: CONTENT }], max_tokens: 1 }).withResponse();
    const fromGraphql = await opening(gql.data.sendMessage.conversation.id);
    const fromOpenAi = await opening(viaOpenAi.response.headers.get('x-parley-conversation')!);
    assert.deepEqual(fromOpenAi, fromGraphql);
    assert.equal(fromGraphql.title, 'a'.repeat(59));
    assert.equal(fromGraphql.content, CONTENT);
  });
});
