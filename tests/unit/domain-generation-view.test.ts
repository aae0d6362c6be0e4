import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideConversation, evolveConversation, initialConversationState } from '../../domain/conversation.ts';
import type { DomainEvent } from '../../domain/decision.ts';
import { decideGeneration, evolveGeneration, initialGenerationState } from '../../domain/generation.ts';
import { answerText, filteredCategory, foldGeneration, hasEnded, inputBlocked, latestText } from '../../domain/generation-view.ts';
import { RecordSafetyCheck, type ConversationDeciderCommand, type GenerationDeciderCommand } from '../../schemas/commands.ts';
import { SamplingParams } from '../../schemas/common.ts';
import { defaultLimits } from '../../schemas/config.ts';
import type { EventData, ParleyEvent } from '../../schemas/events.ts';
import { packTokenIds, unpackTokenIds } from '../../schemas/prompt.ts';
import { metadata } from '../support/events.ts';
import { cmdMeta, spec } from '../support/given-when-then.ts';

const params = SamplingParams.parse({});
const started: DomainEvent = {
  type: 'ConversationStarted', version: 1,
  data: { conversationId: 'c1', ownerId: 'alice', tenantId: 't1', title: 'Hi', systemPrompt: null, model: 'parley-tiny', safetySettings: {} },
};
const submitted: DomainEvent = {
  type: 'MessageSubmitted', version: 2,
  data: { conversationId: 'c1', messageId: 'm1', generationId: 'g1', role: 'user', content: 'hello', parentMessageId: null, params },
};
const checkData = (stage: 'input' | 'output', verdict: 'allowed' | 'blocked' = 'allowed', category: 'dangerous' | 'pii' = 'dangerous'): EventData<'SafetyChecked'> => ({
  conversationId: 'c1', messageId: 'm1', generationId: 'g1', stage, verdict,
  categories: [{ category, score: verdict === 'blocked' ? 0.9 : 0, severity: verdict === 'blocked' ? 'HIGH' : 'NEGLIGIBLE', blocked: verdict === 'blocked' }],
  policyVersion: 'p1', latencyMs: 1, degraded: false, contentHash: 'a'.repeat(64),
});
const checked = (stage: 'input' | 'output', verdict: 'allowed' | 'blocked' = 'allowed', category: 'dangerous' | 'pii' = 'dangerous'): DomainEvent =>
  ({ type: 'SafetyChecked', version: 1, data: checkData(stage, verdict, category) });
const record = (stage: 'input' | 'output', verdict: 'allowed' | 'blocked' = 'allowed', messageId = 'm1') =>
  RecordSafetyCheck.parse({ type: 'RecordSafetyCheck', data: { ...checkData(stage, verdict), messageId }, metadata: cmdMeta() });

const request = (inputCheck: { verdict: 'allowed' | 'blocked'; category: 'dangerous' | null } | null = { verdict: 'allowed', category: null }): DomainEvent => ({
  type: 'GenerationRequested', version: 2,
  data: {
    generationId: 'g1', conversationId: 'c1', messageId: 'm1', ownerId: 'alice', tenantId: 't1', model: 'parley-tiny', params,
    context: { includedMessageIds: ['m1'], droppedMessageIds: [], promptTokens: 3 }, siblingOf: null, priority: 0, brownout: false,
    prompt: packTokenIds([1, 2, 3]), safetySettings: {},
    inputCheck: inputCheck && { ...inputCheck, safetyEventId: '3b241101-e2bb-4255-8caf-4136c566a962' },
  },
});
const tokens = (attempt: number, firstIndex: number, text: string): DomainEvent => ({
  type: 'TokensGenerated', version: 2, data: { generationId: 'g1', attempt, firstIndex, tokenCount: [...text].length, tokens: packTokenIds([...text].map((_, i) => i + 5)), text },
});
const completed = (finishReason: 'stop' | 'content_filter' = 'stop', attempt = 1): DomainEvent => ({
  type: 'GenerationCompleted', version: 1,
  data: { generationId: 'g1', attempt, finishReason, usage: { promptTokens: 3, completionTokens: 2 }, ttftMs: 1, tpotMs: 1, workerId: 'w' },
});
const stored = (events: DomainEvent[]) => events.map((e) => ({ ...e, metadata: metadata() }) as ParleyEvent);

describe('RecordSafetyCheck, input stage (conversation decider)', () => {
  const given = spec({
    initial: initialConversationState, evolve: evolveConversation,
    decide: (c: ConversationDeciderCommand, s: ReturnType<typeof initialConversationState>) => decideConversation(c, s, defaultLimits),
  });
  it('records the decision for a message of the conversation', () => given([started, submitted]).when(record('input')).then([checked('input')]));
  it('records exactly one decision per message', () =>
    given([started, submitted, checked('input')]).when(record('input', 'blocked')).thenError('ALREADY_EXISTS', 'messageId'));
  it('refuses a decision for a message the conversation does not hold', () =>
    given([started, submitted]).when(record('input', 'allowed', 'm9')).thenError('NOT_FOUND', 'messageId'));
  it('still records the decision on a message submitted before the conversation was deleted', () =>
    given([started, submitted, { type: 'ConversationDeleted', version: 1, data: { conversationId: 'c1' } }]).when(record('input')).then([checked('input')]));
  it('takes no output checks', () => given([started, submitted]).when(record('output')).thenError('INVALID_FIELD', 'stage'));
});

describe('RecordSafetyCheck, output stage (generation decider)', () => {
  const given = spec({
    initial: initialGenerationState, evolve: evolveGeneration,
    decide: (c: GenerationDeciderCommand, s: ReturnType<typeof initialGenerationState>) => decideGeneration(c, s, defaultLimits),
  });
  it('records the output decision of a running generation', () => given([request(), tokens(1, 0, 'hi')]).when(record('output')).then([checked('output')]));
  it('refuses it once the generation has ended', () => given([request(), completed()]).when(record('output')).thenError('GENERATION_NOT_RUNNING'));
  it('refuses it before the request', () => given([]).when(record('output')).thenError('NOT_FOUND'));
});

describe('the generation fold', () => {
  it('answers "ended?" as the decider does', () => {
    assert.equal(hasEnded(foldGeneration(stored([request(), tokens(1, 0, 'ab')]))), false);
    const view = foldGeneration(stored([request(), tokens(1, 0, 'ab'), completed()]));
    assert.equal(hasEnded(view), true);
    assert.equal(view.state.status, 'completed');
  });

  it('keeps the latest attempt\'s text only', () => {
    const view = foldGeneration(stored([request(), tokens(1, 0, 'dead '), tokens(1, 5, 'end'), tokens(2, 0, 'new'), tokens(2, 3, ' text'), completed('stop', 2)]));
    assert.equal(latestText(view), 'new text');
    assert.equal(answerText(view), 'new text');
    assert.equal(view.attempt, 2);
  });

  it('gives no answer text for an unfinished or filtered generation', () => {
    assert.equal(answerText(foldGeneration(stored([request(), tokens(1, 0, 'so far')]))), null);
    assert.equal(answerText(foldGeneration(stored([request(), tokens(1, 0, 'x'), checked('output', 'blocked', 'pii'), completed('content_filter')]))), null);
  });

  it('knows a blocked input from the request, and its category', () => {
    const view = foldGeneration(stored([request({ verdict: 'blocked', category: 'dangerous' }), tokens(1, 0, 'no'), completed('content_filter')]));
    assert.equal(inputBlocked(view), true);
    assert.equal(filteredCategory(view), 'dangerous');
  });

  it('names the output check\'s category for an answer stopped by the filter', () => {
    const view = foldGeneration(stored([request(), tokens(1, 0, 'x'), checked('output', 'blocked', 'pii'), completed('content_filter')]));
    assert.equal(inputBlocked(view), false);
    assert.equal(filteredCategory(view), 'pii');
  });

  it('for a v1 request (no input decision), takes it from the conversation\'s SafetyChecked fed after', () => {
    const view = foldGeneration(stored([request(null)]));
    assert.equal(inputBlocked(view), null, 'unknown, not "allowed"');
    const withConversation = foldGeneration(stored([started, submitted, checked('input', 'blocked')]), view);
    assert.equal(inputBlocked(withConversation), true);
    assert.equal(filteredCategory(withConversation), 'dangerous');
  });
});

describe('packed prompt token ids', () => {
  it('round-trips ids of any size, and refuses what is not a packed prompt', () => {
    const ids = [0, 1, 127, 128, 1244, 16_383, 16_384, 65_535, 2 ** 31 - 1, 2 ** 32 - 1];
    assert.deepEqual(unpackTokenIds(packTokenIds(ids)), ids);
    assert.deepEqual(unpackTokenIds(packTokenIds([])), []);
    assert.equal(unpackTokenIds('[erased]'), null);
    assert.equal(unpackTokenIds('t1:gA'), null, 'a truncated varint');
  });

  it('packs a full 2,048-token prompt of the shipped vocabulary into at most 2 bytes a token', () => {
    const ids = Array.from({ length: 2048 }, (_, i) => (i * 7919) % 1245);
    const packed = packTokenIds(ids);
    assert.ok(Buffer.from(packed.slice(3), 'base64url').length <= 2 * ids.length);
    assert.deepEqual(unpackTokenIds(packed), ids);
  });
});
