// Rolling summaries through the real server (issue 19 item 1): PostgreSQL, the saga, the job queue
// and the worker running the shipped model. The shipped model (v1) cannot summarise — v2 learns the
// "Summary:\n- Q: …\n  A: …" answer to "Summarise this conversation." — so these checks are about the
// machinery and hold whatever the model answers: the job is queued below every answer, its prompt is
// the dropped turns then the instruction, its answer is recorded once as ConversationSummarized
// (sealed), the next turns' prompts carry exactly that text as a system-turn section, a larger
// dropped part brings a refresh that extends it, and erasure makes it unreadable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { SUMMARY_HEADER, SUMMARY_INSTRUCTION, SUMMARY_JOB_PRIORITY } from '../../inference/saga/summary-context.ts';
import { recordSummaries } from '../../inference/saga/summary-recorder.ts';
import { ERASED } from '../../eventstore/crypto/field-codec.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { unpackTokenIds } from '../../schemas/prompt.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';

let server: TestServer;
let gql: ReturnType<typeof graphqlClient>;
let token = '';
const tokenizer = loadModel(SHIPPED_MODEL_DIR).tokenizer;
const decode = (packed: string) => tokenizer.decode(unpackTokenIds(packed)!, { skipSpecialTokens: false });

before(async () => {
  // Tools off: these checks count questions and answers, and a tool round adds a continuation answer.
  server = await startTestServer({ env: { PARLEY_TOOLS: 'off' } });
  gql = graphqlClient(server.url);
  token = await server.token({ userId: 'sam', tenantId: 'acme', roles: ['user'] });
});
after(() => server?.stop());

const codeword = `zebra${randomUUID().slice(0, 6)}`;
// ~450 prompt tokens per turn with the shipped tokenizer: the 2048-token context holds about four.
const filler = 'The weather report for the coastal towns says light rain in the morning and sun later on. '.repeat(18);
let conversationId = '';

async function say(content: string): Promise<string> {
  const r = await gql(token, 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { conversation { id } generation { id } } }',
    { i: { content, ...(conversationId ? { conversationId } : {}), params: { temperature: 0, maxTokens: 6 } } });
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  conversationId = r.data.sendMessage.conversation.id;
  const generationId = r.data.sendMessage.generation.id as string;
  await streamChunks(server.url, token, generationId);
  return generationId;
}

const requestOf = async (generationId: string) => (await server.app.store.readStream(`generation-${generationId}`)).find((e) => e.type === 'GenerationRequested') as RecordedEvent & { type: 'GenerationRequested'; data: any };
const summaries = async () => (await server.app.store.readStream(`conversation-${conversationId}`)).filter((e) => e.type === 'ConversationSummarized') as (RecordedEvent & { data: any })[];
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
// Every summary job asked for so far has ended and its summary is recorded.
async function settled() {
  await until(async () => {
    const open = await server.app.knex('generation_jobs').where('generation_id', 'like', 'summary-%').whereIn('status', ['queued', 'running']).count({ n: '*' });
    const asked = (await summaryRequests()).length;
    return Number(open[0]!.n) === 0 && (await summaries()).length === asked;
  }, Boolean, 'the summary jobs to settle');
}
const summaryRequests = async () => {
  const { rows } = await server.app.knex.raw(`select stream_id from parley_events where type = 'GenerationRequested' and data->'summarizes' is not null and data->>'conversationId' = ? order by position`, [conversationId]);
  return Promise.all((rows as { stream_id: string }[]).map((r) => requestOf(r.stream_id.slice('generation-'.length))));
};

test('a conversation longer than the context: a summary job at the lowest priority, recorded once, then used in the system turn', async () => {
  const first = await say(`My codeword is ${codeword}. Please remember it. ${filler}`);
  const generations = [first];
  for (let i = 2; i <= 6; i++) generations.push(await say(`Turn ${i}. ${filler}`));
  const dropped = (await requestOf(generations.at(-1)!)).data.context.droppedMessageIds as string[];
  assert.ok(dropped.length >= 1, 'the last turns no longer fit whole: context assembly dropped the first');

  const [req] = await until(summaryRequests, (r) => r.length >= 1, 'a summary request');
  const firstMessageId = (await requestOf(first)).data.messageId;
  assert.equal(req!.data.summarizes.messageIds[0], firstMessageId, 'it covers the conversation from its first turn');
  assert.equal(req!.data.summarizes.previousSummaryId, null);
  const summaryId = req!.data.generationId as string;
  // Its prompt: the dropped turns as user/assistant messages, then the instruction as the last user message.
  const prompt = decode(req!.data.prompt);
  assert.ok(prompt.includes(`My codeword is ${codeword}.`), 'the dropped first turn, verbatim');
  assert.ok(prompt.trimEnd().endsWith(`user\n${SUMMARY_INSTRUCTION}<|im_end|>\n<|im_start|>assistant`) || prompt.includes(`${SUMMARY_INSTRUCTION}`), prompt.slice(-200));
  const lastUser = prompt.lastIndexOf('user\n');
  assert.equal(prompt.slice(lastUser + 5, lastUser + 5 + SUMMARY_INSTRUCTION.length), SUMMARY_INSTRUCTION, 'the instruction is the last user turn');

  // Queued below every answer (admission tiers are 0–9).
  const job = await server.app.knex('generation_jobs').where({ generation_id: summaryId }).first();
  assert.equal(job.priority, SUMMARY_JOB_PRIORITY);
  const answers = await server.app.knex('generation_jobs').whereIn('generation_id', generations);
  assert.ok(answers.every((a) => a.priority > job.priority));

  // Recorded once, with the summary generation's answer as its text, sealed in the log.
  const [recorded] = await until(summaries, (s) => s.length >= 1, 'ConversationSummarized');
  assert.equal(recorded!.data.summaryId, summaryId);
  assert.deepEqual(recorded!.data.messageIds, req!.data.summarizes.messageIds);
  const answer = (await server.app.store.readStream(`generation-${summaryId}`)).filter((e) => e.type === 'TokensGenerated').map((e: any) => e.data.text).join('');
  assert.equal(recorded!.data.text, answer.trim());
  const raw = (await server.app.knex.raw(`select data from parley_events where type = 'ConversationSummarized' and data->>'summaryId' = ?`, [summaryId])).rows;
  assert.equal(raw.length, 1, 'one event');
  assert.deepEqual(Object.keys(raw[0].data.text).sort(), ['ct', 'iv', 'kid'], 'the text is sealed with the conversation key');
  // Replaying the completion (a saga batch replayed after a crash) records nothing more.
  const completed = (await server.app.store.readStream(`generation-${summaryId}`)).filter((e) => e.type === 'GenerationCompleted');
  const { ConversationCache } = await import('../../inference/saga/conversation-cache.ts');
  const { PendingSummaries } = await import('../../inference/saga/summary-context.ts');
  const again = await recordSummaries({ store: server.app.store, commands: server.app.commands, cache: new ConversationCache(server.app.store), actor: { userId: 'parley-saga', tenantId: 'system', roles: ['admin', 'platform_operator'] }, pending: new PendingSummaries() }, completed);
  assert.equal(again, 0);
  assert.equal((await summaries()).filter((x) => x.data.summaryId === summaryId).length, 1);

  // The history the user reads has no summary generation in it.
  const history = await gql(token, 'query($id: ID!) { conversation(id: $id) { messages { id role } } }', { id: conversationId });
  assert.equal(history.errors, undefined, JSON.stringify(history.errors));
  assert.ok(history.data.conversation.messages.every((m: any) => m.id !== summaryId));
  assert.equal(history.data.conversation.messages.length, 12, 'six questions, six answers');

  // The next turn's prompt (once the summary jobs asked for so far are recorded): the latest summary
  // as a section of the system turn, then the recent turns.
  await settled();
  const latest = (await summaries()).reduce((a, b) => (b.data.messageIds.length > a.data.messageIds.length ? b : a));
  const next = await say(`Turn 7. ${filler}`);
  const nextReq = await requestOf(next);
  assert.equal(nextReq.data.context.summaryId, latest.data.summaryId);
  const nextPrompt = decode(nextReq.data.prompt);
  const system = nextPrompt.slice(0, nextPrompt.indexOf('<|im_end|>'));
  if (latest.data.text.trim()) assert.ok(system.includes(`${SUMMARY_HEADER}\n${latest.data.text.trim()}`), 'the summary, verbatim, in the system turn');
  else assert.ok(!system.includes(SUMMARY_HEADER), 'an empty summary adds nothing');
  for (const id of latest.data.messageIds) assert.ok(nextReq.data.context.droppedMessageIds.includes(id), 'covered turns are not repeated verbatim');
  assert.ok(!nextReq.data.context.includedMessageIds.includes(firstMessageId));
});

test('the dropped part grows: a refresh extends the previous summary; erasure makes every summary unreadable', async () => {
  const before = (await summaries()).length;
  for (let i = 8; i <= 11; i++) await say(`Turn ${i}. ${filler}`);
  await until(summaries, (s) => s.length > before, 'a refreshed summary');
  // Four turns can ask for more than one refresh: read them once every job asked for has ended (the
  // export below and the recorded list must see the same summaries).
  await settled();
  const all = await summaries();
  const newer = all.at(-1)!;
  const older = all.find((x) => x.data.summaryId === newer.data.previousSummaryId)!;
  assert.ok(older, 'a refresh extends a recorded summary');
  assert.ok(newer.data.messageIds.length > older.data.messageIds.length, 'it covers more turns');
  assert.deepEqual(newer.data.messageIds.slice(0, older.data.messageIds.length), older.data.messageIds);
  assert.ok(newer.data.text.startsWith(older.data.text.trimEnd()), 'the previous summary\'s text is kept, the new entries follow');
  const requests = await summaryRequests();
  assert.ok(requests.every((r) => new Set(r.data.summarizes.messageIds).size === r.data.summarizes.messageIds.length));
  const refreshReq = requests.find((r) => r.data.generationId === newer.data.summaryId)!;
  assert.ok(!decode(refreshReq.data.prompt).includes(codeword), 'a refresh reads only the newly dropped turns');

  // The user's subject-access export holds the summaries, decrypted.
  const exported = await gql(token, 'mutation { exportUserData(userId: "sam") { jsonl } }');
  assert.equal(exported.errors, undefined, JSON.stringify(exported.errors));
  const records = (exported.data.exportUserData.jsonl as string).trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'summary');
  const recorded = await summaries();
  assert.deepEqual(records.map((r) => [r.id, r.conversationId, r.text]), recorded.map((x) => [x.data.summaryId, conversationId, x.data.text]));

  const erased = await gql(token, 'mutation { eraseUserData(userId: "sam") }');
  assert.equal(erased.errors, undefined);
  for (const s of await summaries()) assert.equal(s.data.text, ERASED);
  const { rows } = await server.app.knex.raw(`select count(*)::int as n from parley_events where data::text like ?`, [`%${codeword}%`]);
  assert.equal(rows[0].n, 0, 'the codeword is nowhere in the log in clear');
});
