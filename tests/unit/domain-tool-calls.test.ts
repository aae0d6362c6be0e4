import { describe, it } from 'node:test';
import type { DomainEvent } from '../../domain/decision.ts';
import { decideGeneration, evolveGeneration, initialGenerationState } from '../../domain/generation.ts';
import { GenerationCommand } from '../../schemas/commands.ts';
import { defaultLimits } from '../../schemas/config.ts';
import { SamplingParams } from '../../schemas/common.ts';
import { cmdMeta, spec } from '../support/given-when-then.ts';
import { admin, bob } from '../support/events.ts';

// Tool calls live on the generation whose text made them: requested once it completed, then
// completed or failed exactly once.
const given = spec({
  initial: initialGenerationState,
  evolve: evolveGeneration,
  decide: (c: unknown, s: ReturnType<typeof initialGenerationState>) => decideGeneration(GenerationCommand.parse(c), s, defaultLimits),
});
const requested: DomainEvent = {
  type: 'GenerationRequested', version: 2,
  data: {
    generationId: 'g1', conversationId: 'c1', messageId: 'm1', ownerId: 'alice', tenantId: 't1', model: 'parley-tiny',
    params: SamplingParams.parse({}), context: { includedMessageIds: ['m1'], droppedMessageIds: [], promptTokens: 3 },
    siblingOf: null, priority: 0, brownout: false, prompt: null, safetySettings: null, inputCheck: null,
  },
};
const completed: DomainEvent = {
  type: 'GenerationCompleted', version: 1,
  data: { generationId: 'g1', attempt: 1, finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 9 }, ttftMs: 1, tpotMs: 1, workerId: 'w' },
};
const call = { toolCallId: 'g1.c0', generationId: 'g1', messageId: 'm1', round: 1, index: 0, name: 'calculator', arguments: '{"expression":"1+1"}' };
const owner = { conversationId: 'c1', ownerId: 'alice', tenantId: 't1' };
const callRequested: DomainEvent = { type: 'ToolCallRequested', version: 1, data: { ...call, ...owner } };
const result = { toolCallId: 'g1.c0', generationId: 'g1', name: 'calculator', result: '{"result":"2"}', truncated: false, latencyMs: 0.5 };
const failure = { toolCallId: 'g1.c0', generationId: 'g1', name: 'calculator', code: 'TOOL_ERROR', message: 'division by zero', latencyMs: 0.1, blockedCategory: null } as const;

describe('Tool call decider (on the generation stream)', () => {
  it('requests a call on a completed generation, with its owner', () =>
    given([requested, completed]).when({ type: 'RequestToolCall', data: call, metadata: cmdMeta() }).then([callRequested]));
  it('refuses a call on a generation still running', () =>
    given([requested]).when({ type: 'RequestToolCall', data: call, metadata: cmdMeta() }).thenError('GENERATION_NOT_COMPLETED'));
  it('refuses a call on a generation that does not exist', () =>
    given([]).when({ type: 'RequestToolCall', data: call, metadata: cmdMeta() }).thenError('NOT_FOUND'));
  it('requests each call once', () =>
    given([requested, completed, callRequested]).when({ type: 'RequestToolCall', data: call, metadata: cmdMeta() }).thenError('ALREADY_EXISTS', 'toolCallId'));
  it('completes a requested call', () =>
    given([requested, completed, callRequested]).when({ type: 'CompleteToolCall', data: result, metadata: cmdMeta() })
      .then([{ type: 'ToolCallCompleted', version: 1, data: { ...result, ...owner } }]));
  it('fails a requested call', () =>
    given([requested, completed, callRequested]).when({ type: 'FailToolCall', data: failure, metadata: cmdMeta() })
      .then([{ type: 'ToolCallFailed', version: 1, data: { ...failure, ...owner } }]));
  it('ends a call once: a second outcome is ALREADY_EXISTS (a replay)', () =>
    given([requested, completed, callRequested, { type: 'ToolCallCompleted', version: 1, data: { ...result, ...owner } }])
      .when({ type: 'FailToolCall', data: failure, metadata: cmdMeta() }).thenError('ALREADY_EXISTS'));
  it('refuses an outcome for a call never requested', () =>
    given([requested, completed]).when({ type: 'CompleteToolCall', data: result, metadata: cmdMeta() }).thenError('NOT_FOUND', 'toolCallId'));
  it('someone else\'s call reads as missing: bob can neither request nor complete alice\'s (a client reports only its own results)', () => {
    given([requested, completed]).when({ type: 'RequestToolCall', data: call, metadata: cmdMeta(bob) }).thenError('NOT_FOUND', 'generationId');
    given([requested, completed, callRequested]).when({ type: 'CompleteToolCall', data: result, metadata: cmdMeta(bob) }).thenError('NOT_FOUND', 'toolCallId');
  });
  it('the saga (an operator reaching every tenant) and the owner\'s tenant admin complete it', () => {
    const saga = { userId: 'parley-saga', tenantId: 'system', roles: ['admin' as const, 'platform_operator' as const] };
    given([requested, completed, callRequested]).when({ type: 'CompleteToolCall', data: result, metadata: cmdMeta(saga) })
      .then([{ type: 'ToolCallCompleted', version: 1, data: { ...result, ...owner } }]);
    given([requested, completed, callRequested]).when({ type: 'CompleteToolCall', data: result, metadata: cmdMeta(admin) })
      .then([{ type: 'ToolCallCompleted', version: 1, data: { ...result, ...owner } }]);
  });
  it('refuses an unknown failure code (zod)', () => {
    let threw = false;
    try { GenerationCommand.parse({ type: 'FailToolCall', data: { ...failure, code: 'OOPS' }, metadata: cmdMeta() }); } catch { threw = true; }
    if (!threw) throw new Error('expected a zod error');
  });
});
