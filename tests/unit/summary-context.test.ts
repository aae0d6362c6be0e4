// Rolling summaries: the pure parts of context assembly (inference/saga/summary-context.ts) and the
// decider (domain/summary.ts), on a word-counting stand-in model so every number is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideSummary, evolveSummary, initialSummaryState } from '../../domain/summary.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import type { ChatModel, ChatTurnMessage, Thread } from '../../inference/saga/context-assembly.ts';
import {
  capSummary, fitWithSummary, isSummaryGenerationId, mergeSummaries, PendingSummaries, SUMMARY_HEADER, SUMMARY_INSTRUCTION,
  summaryFor, summaryGenerationId, summaryRequestData,
} from '../../inference/saga/summary-context.ts';
import { unpackTokenIds } from '../../schemas/prompt.ts';
import type { ParleyEvent } from '../../schemas/events.ts';

// One token per word; the template writes "<role> content" per message.
const words = (t: string) => t.split(/\s+/).filter(Boolean);
let vocab = new Map<string, number>();
const id = (w: string) => { if (!vocab.has(w)) vocab.set(w, vocab.size + 1); return vocab.get(w)!; };
const back = (ids: number[]) => { const r = new Map([...vocab].map(([w, i]) => [i, w])); return ids.map((i) => r.get(i)).join(' '); };
const model = (contextLength: number): ChatModel => ({
  config: { contextLength },
  tokenizer: { encode: (t) => words(t).map(id) },
  applyChatTemplate: (m: ChatTurnMessage[]) => m.flatMap((x) => [id(`<${x.role}>`), ...words(x.content).map(id)]),
});

const turn = (i: number, answered = true) => ({ messageId: `m${i}`, user: `question ${i} ${'pad '.repeat(8)}`.trim(), assistant: answered ? `answer ${i}` : null });
const thread = (n: number): Thread => ({ systemPrompt: 'You are Parley.', turns: [...Array.from({ length: n - 1 }, (_, i) => turn(i + 1)), turn(n, false)] });
const meta = { eventId: '00000000-0000-4000-8000-000000000000', correlationId: 'x', causationId: null, commandId: 'c', actor: { userId: 'saga', tenantId: 'system', roles: [] }, occurredAt: '2026-01-01T00:00:00Z' };
const summarized = (summaryId: string, messageIds: string[], text: string, previousSummaryId: string | null = null) =>
  ({ type: 'ConversationSummarized', version: 1, data: { conversationId: 'c1', summaryId, messageIds, previousSummaryId, text }, metadata: meta, streamId: 'conversation-c1', revision: 0, position: '1', recordedAt: '' }) as unknown as RecordedEvent;

test('without a summary: the turns that do not fit are dropped and all of them are to be summarised', () => {
  vocab = new Map();
  const ctx = fitWithSummary(model(60), thread(6), 10, []);
  // each answered turn is 11 + 3 tokens; system 4; the last turn 11
  assert.deepEqual(ctx.includedMessageIds, ['m4', 'm5', 'm6']);
  assert.deepEqual(ctx.droppedMessageIds, ['m1', 'm2', 'm3']);
  assert.equal(ctx.summary, null);
  assert.deepEqual(ctx.unsummarized.map((t) => t.messageId), ['m1', 'm2', 'm3']);
  const none = fitWithSummary(model(1000), thread(6), 10, []);
  assert.deepEqual(none.unsummarized, [], 'nothing dropped, nothing to summarise');
});

test('with a summary: it is a system-turn section, its turns count as dropped, and only the turns dropped beyond it are to be summarised', () => {
  vocab = new Map();
  const history = [summarized('s1', ['m1', 'm2'], 'Summary:\n- Q: question 1\n  A: answer 1')];
  const ctx = fitWithSummary(model(80), thread(7), 10, history);
  assert.equal(ctx.summary?.summaryId, 's1');
  const text = back(ctx.promptIds);
  assert.ok(text.startsWith(`<system> You are Parley. ${words(SUMMARY_HEADER).join(' ')} Summary: - Q: question 1 A: answer 1 <user>`), text);
  assert.deepEqual(ctx.droppedMessageIds.slice(0, 2), ['m1', 'm2']);
  assert.ok(ctx.includedMessageIds.includes('m7'));
  assert.deepEqual(ctx.unsummarized.map((t) => t.messageId), ctx.droppedMessageIds.slice(2));
  assert.ok(ctx.unsummarized.length > 0, 'the dropped part grew beyond the summary: a refresh is due');
  assert.equal(ctx.unsummarized[0]!.messageId, 'm3', 'the refresh starts after the summary\'s turns');
});

test('summaryFor: the longest summary of this thread\'s first turns; never one of another branch or one covering the message answered', () => {
  const t = thread(5);
  assert.equal(summaryFor([summarized('a', ['m1'], 'x'), summarized('b', ['m1', 'm2', 'm3'], 'y'), summarized('c', ['m1', 'm2'], 'z')], t)?.summaryId, 'b');
  assert.equal(summaryFor([summarized('edit', ['m1', 'other'], 'x')], t), null);
  assert.equal(summaryFor([summarized('all', ['m1', 'm2', 'm3', 'm4', 'm5'], 'x')], t), null);
});

test('the summary request: the unsummarised turns as user/assistant messages, then "Summarise this conversation."; covers the previous turns too', () => {
  vocab = new Map();
  const m = model(2000);
  const data = summaryRequestData(m, {
    conversationId: 'c1', ownerId: 'u', tenantId: 't', model: 'parley-tiny', safetySettings: {},
    previous: { summaryId: 's1', messageIds: ['m1', 'm2'], previousSummaryId: null, text: 'x' }, turns: [turn(3), turn(4)],
  })!;
  assert.equal(data.generationId, summaryGenerationId('c1', 'm4'));
  assert.ok(isSummaryGenerationId(data.generationId as string));
  assert.deepEqual(data.summarizes, { messageIds: ['m1', 'm2', 'm3', 'm4'], previousSummaryId: 's1' });
  assert.equal(data.messageId, 'm4');
  assert.deepEqual(data.params, { temperature: 0, maxTokens: 256 });
  const prompt = back(unpackTokenIds(data.prompt as string)!);
  assert.equal(prompt, `<user> ${turn(3).user} <assistant> answer 3 <user> ${turn(4).user} <assistant> answer 4 <user> ${SUMMARY_INSTRUCTION}`);
  // Too long for the context with the answer budget: only the oldest turns that fit are covered now.
  const small = summaryRequestData(model(256 + 35), { conversationId: 'c1', ownerId: 'u', tenantId: 't', model: 'x', safetySettings: {}, previous: null, turns: [turn(1), turn(2), turn(3)] })!;
  assert.deepEqual((small.summarizes as any).messageIds, ['m1', 'm2']);
  assert.equal(summaryRequestData(model(256 + 5), { conversationId: 'c1', ownerId: 'u', tenantId: 't', model: 'x', safetySettings: {}, previous: null, turns: [turn(1)] }), null);
});

test('merge, cap and the pending set', () => {
  assert.equal(mergeSummaries(null, '  Summary:\n- Q: a\n  A: b \n'), 'Summary:\n- Q: a\n  A: b');
  assert.equal(mergeSummaries('Summary:\n- Q: a\n  A: b', 'Summary:\n- Q: c\n  A: d'), 'Summary:\n- Q: a\n  A: b\n- Q: c\n  A: d');
  assert.equal(mergeSummaries('Summary:\n- Q: a', '   '), 'Summary:\n- Q: a');
  vocab = new Map();
  const long = ['Summary:', ...Array.from({ length: 40 }, (_, i) => `- Q: q${i} A: a${i}`)].join('\n');
  const capped = capSummary(model(100), long);
  assert.ok(words(capped).length <= 25);
  assert.ok(capped.startsWith('Summary:\n- Q: q3'), 'the oldest entries go first, the header stays');
  assert.ok(capped.endsWith('- Q: q39 A: a39'));
  let now = 0;
  const p = new PendingSummaries(1000, () => now);
  p.start('c1', 'g1');
  assert.equal(p.has('c1'), true);
  p.end('g1');
  assert.equal(p.has('c1'), false);
  p.start('c1', 'g2');
  now = 2000;
  assert.equal(p.has('c1'), false, 'a job lost for longer than staleMs no longer blocks');
});

test('decider: a summary covers messages of the conversation, is recorded once, never on a deleted one', () => {
  const ev = (e: object) => ({ ...e, metadata: meta }) as unknown as ParleyEvent;
  let state = [
    ev({ type: 'ConversationStarted', version: 1, data: { conversationId: 'c1', ownerId: 'u', tenantId: 't', title: '', systemPrompt: null, model: 'x', safetySettings: {} } }),
    ev({ type: 'MessageSubmitted', version: 1, data: { messageId: 'm1' } }),
    ev({ type: 'MessageSubmitted', version: 1, data: { messageId: 'm2' } }),
  ].reduce(evolveSummary, initialSummaryState());
  const cmd = (data: object) => ({ type: 'SummarizeConversation' as const, data: { conversationId: 'c1', summaryId: 's1', messageIds: ['m1'], previousSummaryId: null, text: 'Summary:', ...data }, metadata: { commandId: 'c', actor: meta.actor } });
  const ok = decideSummary(cmd({}), state);
  assert.ok(ok.ok);
  state = ok.events.map((e) => ({ ...e, metadata: meta }) as unknown as ParleyEvent).reduce(evolveSummary, state);
  assert.equal((decideSummary(cmd({}), state) as any).error.code, 'ALREADY_EXISTS');
  assert.equal((decideSummary(cmd({ summaryId: 's2', messageIds: ['m9'] }), state) as any).error.field, 'messageIds');
  assert.equal((decideSummary(cmd({ summaryId: 's2', previousSummaryId: 'nope' }), state) as any).error.field, 'previousSummaryId');
  assert.ok(decideSummary(cmd({ summaryId: 's2', messageIds: ['m1', 'm2'], previousSummaryId: 's1' }), state).ok);
  const deleted = evolveSummary(state, ev({ type: 'ConversationDeleted', version: 1, data: { conversationId: 'c1' } }));
  assert.equal((decideSummary(cmd({ summaryId: 's3' }), deleted) as any).error.code, 'CONVERSATION_DELETED');
  assert.equal((decideSummary(cmd({}), initialSummaryState()) as any).error.code, 'NOT_FOUND');
});
