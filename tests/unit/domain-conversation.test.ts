import { describe, it } from 'node:test';
import { decideConversation, evolveConversation, initialConversationState } from '../../domain/conversation.ts';
import type { DomainEvent } from '../../domain/decision.ts';
import { ConversationCommand } from '../../schemas/commands.ts';
import { defaultLimits } from '../../schemas/config.ts';
import { SamplingParams } from '../../schemas/common.ts';
import { admin, alice, bob } from '../support/events.ts';
import { cmdMeta, spec } from '../support/given-when-then.ts';

const limits = { ...defaultLimits, maxMessageChars: 50, maxMessagesPerConversation: 2, maxTitleChars: 20 };
const given = spec({
  initial: initialConversationState,
  evolve: evolveConversation,
  decide: (c: unknown, s: ReturnType<typeof initialConversationState>) => decideConversation(ConversationCommand.parse(c), s, limits),
});
const params = SamplingParams.parse({});
const started: DomainEvent = {
  type: 'ConversationStarted', version: 1,
  data: { conversationId: 'c1', ownerId: 'alice', tenantId: 't1', title: 'Hi', systemPrompt: null, model: 'parley-tiny', safetySettings: {} },
};
const submitted = (messageId: string): DomainEvent => ({
  type: 'MessageSubmitted', version: 2,
  data: { conversationId: 'c1', messageId, generationId: `g-${messageId}`, role: 'user', content: 'hello', parentMessageId: null, params },
});
const submit = (messageId: string, extra: object = {}, actor = alice) => ({
  type: 'SubmitMessage', data: { conversationId: 'c1', messageId, generationId: `g-${messageId}`, content: 'hello', ...extra }, metadata: cmdMeta(actor),
});

describe('Conversation decider', () => {
  it('starts a conversation owned by the actor', () =>
    given([]).when({ type: 'StartConversation', data: { conversationId: 'c1', title: 'Hi' }, metadata: cmdMeta() }).then([started]));
  it('defaults an empty title', () =>
    given([]).when({ type: 'StartConversation', data: { conversationId: 'c1', title: '  ' }, metadata: cmdMeta() })
      .then([{ ...started, data: { ...started.data, title: 'New conversation' } } as DomainEvent]));
  it('refuses to start twice', () =>
    given([started]).when({ type: 'StartConversation', data: { conversationId: 'c1' }, metadata: cmdMeta() }).thenError('ALREADY_EXISTS'));
  it('refuses a title over the limit', () =>
    given([]).when({ type: 'StartConversation', data: { conversationId: 'c1', title: 'x'.repeat(21) }, metadata: cmdMeta() }).thenError('INVALID_FIELD', 'title'));

  it('accepts a message', () => given([started]).when(submit('m1')).then([submitted('m1')]));
  it('accepts an edit that branches from an earlier message', () =>
    given([started, submitted('m1')]).when(submit('m2', { parentMessageId: 'm1' }))
      .then([{ ...submitted('m2'), data: { ...submitted('m2').data, parentMessageId: 'm1' } } as DomainEvent]));
  it('refuses a parent that is not in the conversation', () =>
    given([started]).when(submit('m2', { parentMessageId: 'nope' })).thenError('PARENT_NOT_FOUND', 'parentMessageId'));
  it('refuses a message into a missing conversation', () => given([]).when(submit('m1')).thenError('NOT_FOUND'));
  it('refuses a message into a deleted conversation', () =>
    given([started, { type: 'ConversationDeleted', version: 1, data: { conversationId: 'c1' } }]).when(submit('m1')).thenError('CONVERSATION_DELETED'));
  it('refuses an empty message', () => given([started]).when(submit('m1', { content: '   ' })).thenError('INVALID_FIELD', 'content'));
  it('refuses a message over the length limit', () =>
    given([started]).when(submit('m1', { content: 'x'.repeat(51) })).thenError('INVALID_FIELD', 'content'));
  it('refuses a message over the count limit', () =>
    given([started, submitted('m1'), submitted('m2')]).when(submit('m3')).thenError('TOO_MANY_MESSAGES'));
  it('refuses a reused message id', () => given([started, submitted('m1')]).when(submit('m1')).thenError('DUPLICATE_MESSAGE'));
  it("hides another user's conversation", () => given([started]).when(submit('m1', {}, bob)).thenError('NOT_FOUND'));
  it('lets an admin act on any conversation', () => given([started]).when(submit('m1', {}, admin)).then([submitted('m1')]));

  it('renames', () =>
    given([started]).when({ type: 'RenameConversation', data: { conversationId: 'c1', title: ' New ' }, metadata: cmdMeta() })
      .then([{ type: 'ConversationRenamed', version: 1, data: { conversationId: 'c1', title: 'New' } }]));
  it('refuses an empty title on rename', () =>
    given([started]).when({ type: 'RenameConversation', data: { conversationId: 'c1', title: '' }, metadata: cmdMeta() }).thenError('INVALID_FIELD', 'title'));
  it("refuses to rename another user's conversation", () =>
    given([started]).when({ type: 'RenameConversation', data: { conversationId: 'c1', title: 'x' }, metadata: cmdMeta(bob) }).thenError('NOT_FOUND'));
  it('deletes', () =>
    given([started]).when({ type: 'DeleteConversation', data: { conversationId: 'c1' }, metadata: cmdMeta() })
      .then([{ type: 'ConversationDeleted', version: 1, data: { conversationId: 'c1' } }]));
  it('refuses to delete twice', () =>
    given([started, { type: 'ConversationDeleted', version: 1, data: { conversationId: 'c1' } }])
      .when({ type: 'DeleteConversation', data: { conversationId: 'c1' }, metadata: cmdMeta() }).thenError('CONVERSATION_DELETED'));
});
