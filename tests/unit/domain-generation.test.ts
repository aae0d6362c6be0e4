import { packTokenIds } from '../../schemas/prompt.ts';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../domain/decision.ts';
import { decideAppeal, evolveAppeal, initialAppealState } from '../../domain/appeal.ts';
import { decideGeneration, evolveGeneration, initialGenerationState } from '../../domain/generation.ts';
import { AppealCommand, GenerationCommand } from '../../schemas/commands.ts';
import { defaultLimits } from '../../schemas/config.ts';
import { SamplingParams } from '../../schemas/common.ts';
import { alice, bob, compliance } from '../support/events.ts';
import { cmdMeta, spec } from '../support/given-when-then.ts';

const given = spec({
  initial: initialGenerationState,
  evolve: evolveGeneration,
  decide: (c: unknown, s: ReturnType<typeof initialGenerationState>) => decideGeneration(GenerationCommand.parse(c), s, defaultLimits),
});
const params = SamplingParams.parse({});
const context = { includedMessageIds: ['m1'], droppedMessageIds: [], promptTokens: 12 };
const requestData = {
  generationId: 'g1', conversationId: 'c1', messageId: 'm1', ownerId: 'alice', tenantId: 't1', model: 'parley-tiny',
  params, context, siblingOf: null, priority: 0, brownout: false, prompt: null, safetySettings: null, inputCheck: null,
};
const requested: DomainEvent = { type: 'GenerationRequested', version: 2, data: requestData };
const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
// The event seals the ids the command carried (packed, then encrypted by the store).
const tokens = (attempt: number, firstIndex: number, n: number): DomainEvent => ({
  type: 'TokensGenerated', version: 2,
  data: { generationId: 'g1', attempt, firstIndex, tokenCount: n, tokens: packTokenIds(ids(n)), text: 'x'.repeat(n) },
});
const append = (attempt: number, firstIndex: number, n: number) => ({
  type: 'AppendTokens', data: { generationId: 'g1', attempt, firstIndex, tokenIds: ids(n), text: 'x'.repeat(n) }, metadata: cmdMeta(),
});
const completeData = { generationId: 'g1', attempt: 1, finishReason: 'stop', usage: { promptTokens: 12, completionTokens: 4 }, ttftMs: 5, tpotMs: 2, workerId: 'w1' } as const;
const completed: DomainEvent = { type: 'GenerationCompleted', version: 1, data: completeData };
const feedback = (rating: 'up' | 'down', actor = alice, comment: string | null = null) => ({
  type: 'GiveFeedback', data: { generationId: 'g1', rating, comment }, metadata: cmdMeta(actor),
});

describe('Generation decider', () => {
  it('requests a generation', () =>
    given([]).when({ type: 'RequestGeneration', data: requestData, metadata: cmdMeta() }).then([requested]));
  it('refuses a second request with the same id', () =>
    given([requested]).when({ type: 'RequestGeneration', data: requestData, metadata: cmdMeta() }).thenError('ALREADY_EXISTS'));
  it('accepts contiguous token chunks', () => given([requested, tokens(1, 0, 4)]).when(append(1, 4, 3)).then([tokens(1, 4, 3)]));
  it('refuses a gap in token indices', () => given([requested, tokens(1, 0, 4)]).when(append(1, 5, 1)).thenError('TOKEN_INDEX_GAP'));
  it('refuses an overlap in token indices', () => given([requested, tokens(1, 0, 4)]).when(append(1, 2, 1)).thenError('TOKEN_INDEX_GAP'));
  it('starts a retry attempt at index 0', () => given([requested, tokens(1, 0, 4)]).when(append(2, 0, 2)).then([tokens(2, 0, 2)]));
  it('refuses tokens from a superseded attempt', () =>
    given([requested, tokens(1, 0, 4), tokens(2, 0, 1)]).when(append(1, 4, 1)).thenError('STALE_ATTEMPT'));
  it('refuses tokens before the request', () => given([]).when(append(1, 0, 1)).thenError('NOT_FOUND'));
  it('refuses tokens after completion', () => given([requested, tokens(1, 0, 4), completed]).when(append(1, 4, 1)).thenError('GENERATION_NOT_RUNNING'));
  it('refuses tokens after cancellation', () =>
    given([requested, { type: 'GenerationCancelled', version: 1, data: { generationId: 'g1', reason: 'user', usage: null } }])
      .when(append(1, 0, 1)).thenError('GENERATION_NOT_RUNNING'));
  it('completes', () => given([requested, tokens(1, 0, 4)]).when({ type: 'CompleteGeneration', data: completeData, metadata: cmdMeta() }).then([completed]));
  it('fails', () =>
    given([requested]).when({ type: 'FailGeneration', data: { generationId: 'g1', attempt: 3, code: 'LEASE_EXPIRED', reason: 'workers died' }, metadata: cmdMeta() })
      .then([{ type: 'GenerationFailed', version: 1, data: { generationId: 'g1', attempt: 3, code: 'LEASE_EXPIRED', reason: 'workers died' } }]));
  it('cancels, by the owner', () =>
    given([requested]).when({ type: 'CancelGeneration', data: { generationId: 'g1' }, metadata: cmdMeta() })
      .then([{ type: 'GenerationCancelled', version: 1, data: { generationId: 'g1', reason: 'cancelled by user', usage: null } }]));
  it("refuses a cancel by someone else", () =>
    given([requested]).when({ type: 'CancelGeneration', data: { generationId: 'g1' }, metadata: cmdMeta(bob) }).thenError('NOT_FOUND'));
  it('refuses to cancel a completed generation', () =>
    given([requested, completed]).when({ type: 'CancelGeneration', data: { generationId: 'g1' }, metadata: cmdMeta() }).thenError('GENERATION_NOT_RUNNING'));

  const fb = (rating: 'up' | 'down', comment: string | null = null): DomainEvent => ({
    type: 'FeedbackGiven', version: 1, data: { generationId: 'g1', conversationId: 'c1', userId: 'alice', rating, comment },
  });
  it('takes feedback on a completed generation', () => given([requested, completed]).when(feedback('up', alice, ' nice ')).then([fb('up', 'nice')]));
  it('records a later feedback as a new event (it replaces the earlier one in read models)', () =>
    given([requested, completed, fb('up')]).when(feedback('down')).then([fb('down')]));
  it('refuses feedback before completion', () => given([requested]).when(feedback('up')).thenError('GENERATION_NOT_COMPLETED'));
  it("refuses feedback from a user who cannot see the generation", () => given([requested, completed]).when(feedback('up', bob)).thenError('NOT_FOUND'));
  it('refuses an over-long comment', () =>
    given([requested, completed]).when(feedback('up', alice, 'x'.repeat(2001))).thenError('INVALID_FIELD', 'comment'));
});

const appeals = spec({
  initial: initialAppealState,
  evolve: evolveAppeal,
  decide: (c: unknown, s: ReturnType<typeof initialAppealState>) => decideAppeal(AppealCommand.parse(c), s),
});
const safetyEventId = '3b241101-e2bb-4255-8caf-4136c566a962';
const filed: DomainEvent = { type: 'AppealFiled', version: 1, data: { appealId: 'a1', safetyEventId, userId: 'alice', tenantId: 't1', reason: 'was fine' } };

describe('Appeal decider', () => {
  it('files an appeal', () =>
    appeals([]).when({ type: 'FileAppeal', data: { appealId: 'a1', safetyEventId, reason: 'was fine' }, metadata: cmdMeta() }).then([filed]));
  it('lets compliance resolve it', () =>
    appeals([filed]).when({ type: 'ResolveAppeal', data: { appealId: 'a1', outcome: 'overturned', note: 'ok' }, metadata: cmdMeta(compliance) })
      .then([{ type: 'AppealResolved', version: 1, data: { appealId: 'a1', outcome: 'overturned', note: 'ok', resolvedBy: 'carol' } }]));
  it('refuses resolution by a plain user', () =>
    appeals([filed]).when({ type: 'ResolveAppeal', data: { appealId: 'a1', outcome: 'upheld' }, metadata: cmdMeta(alice) }).thenError('FORBIDDEN'));
  it('refuses resolving twice', () =>
    appeals([filed, { type: 'AppealResolved', version: 1, data: { appealId: 'a1', outcome: 'upheld', note: '', resolvedBy: 'carol' } }])
      .when({ type: 'ResolveAppeal', data: { appealId: 'a1', outcome: 'upheld' }, metadata: cmdMeta(compliance) }).thenError('APPEAL_ALREADY_RESOLVED'));
});

import { decideUser, evolveUser, initialUserState } from '../../domain/user.ts';
import { EraseUserData } from '../../schemas/commands.ts';

const users = spec({
  initial: initialUserState,
  evolve: evolveUser,
  decide: (c: unknown, s: ReturnType<typeof initialUserState>) => decideUser(EraseUserData.parse(c), s),
});
const erased: DomainEvent = { type: 'UserDataErased', version: 1, data: { userId: 'alice', tenantId: 't1', reason: 'user_request' } };

describe('User decider (erasure)', () => {
  it('lets a user erase themself', () => users([]).when({ type: 'EraseUserData', data: { userId: 'alice' }, metadata: cmdMeta(alice) }).then([erased]));
  it("refuses to let a user erase someone else", () => users([]).when({ type: 'EraseUserData', data: { userId: 'alice' }, metadata: cmdMeta(bob) }).thenError('FORBIDDEN'));
  it('refuses a second erasure', () => users([erased]).when({ type: 'EraseUserData', data: { userId: 'alice' }, metadata: cmdMeta(alice) }).thenError('ALREADY_EXISTS'));
});
