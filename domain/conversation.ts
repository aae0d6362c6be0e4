import type { ConversationDeciderCommand, RecordSafetyCheck } from '../schemas/commands.ts';
import type { DomainLimits } from '../schemas/config.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { canActOn, hasRoleIn } from './access.ts';
import { accept, reject, type Decision } from './decision.ts';

export type ConversationState =
  | { status: 'none' }
  | {
      status: 'active' | 'deleted';
      conversationId: string;
      ownerId: string;
      tenantId: string;
      title: string;
      messageIds: string[];
      checkedMessageIds: string[]; // messages with their input safety decision recorded
    };

export const initialConversationState = (): ConversationState => ({ status: 'none' });

export function evolveConversation(state: ConversationState, event: ParleyEvent): ConversationState {
  switch (event.type) {
    case 'ConversationStarted':
      return {
        status: 'active',
        conversationId: event.data.conversationId,
        ownerId: event.data.ownerId,
        tenantId: event.data.tenantId,
        title: event.data.title,
        messageIds: [],
        checkedMessageIds: [],
      };
    case 'MessageSubmitted':
      if (state.status === 'none') return state;
      return { ...state, messageIds: [...state.messageIds, event.data.messageId] };
    case 'SafetyChecked':
      if (state.status === 'none' || event.data.stage !== 'input' || event.data.messageId === null) return state;
      return { ...state, checkedMessageIds: [...state.checkedMessageIds, event.data.messageId] };
    case 'ConversationRenamed':
      if (state.status === 'none') return state;
      return { ...state, title: event.data.title };
    case 'ConversationDeleted':
    case 'ConversationErased':
      if (state.status === 'none') return state;
      return { ...state, status: 'deleted' };
    default:
      return state;
  }
}

export function decideConversation(command: ConversationDeciderCommand, state: ConversationState, limits: DomainLimits): Decision {
  const actor = command.metadata.actor;
  if (command.type === 'StartConversation') {
    if (state.status !== 'none') return reject('ALREADY_EXISTS', 'conversation already exists', 'conversationId');
    const { title, systemPrompt } = command.data;
    if (title.length > limits.maxTitleChars) return tooLong('title', limits.maxTitleChars);
    if (systemPrompt !== null && systemPrompt.length > limits.maxSystemPromptChars) {
      return tooLong('systemPrompt', limits.maxSystemPromptChars);
    }
    return accept({
      type: 'ConversationStarted',
      version: 1,
      data: { ...command.data, title: title || 'New conversation', ownerId: actor.userId, tenantId: actor.tenantId },
    });
  }

  if (state.status === 'none') return reject('NOT_FOUND', 'conversation not found', 'conversationId');
  // Before the owner and deleted checks: the decision on a message submitted before a delete is
  // still recorded (audit). Issued by the saga only (no API sends it), like the generation lifecycle.
  if (command.type === 'RecordSafetyCheck') return recordInputCheck(command, state);
  if (command.type === 'EraseConversation') {
    if (!hasRoleIn(actor, 'admin', state.tenantId)) return reject('FORBIDDEN', 'erasing a conversation needs the admin role in its tenant');
    return accept({
      type: 'ConversationErased', version: 1,
      data: { conversationId: state.conversationId, ownerId: state.ownerId, tenantId: state.tenantId, reason: command.data.reason, retentionDays: command.data.retentionDays },
    });
  }
  // Someone else's conversation is reported as missing, so ids cannot be probed.
  if (!canActOn(actor, state)) return reject('NOT_FOUND', 'conversation not found', 'conversationId');
  if (state.status === 'deleted') return reject('CONVERSATION_DELETED', 'conversation is deleted', 'conversationId');

  switch (command.type) {
    case 'SubmitMessage': {
      const { content, messageId, parentMessageId } = command.data;
      if (content.trim().length === 0) return reject('INVALID_FIELD', 'message is empty', 'content');
      if (content.length > limits.maxMessageChars) return tooLong('content', limits.maxMessageChars);
      if (state.messageIds.length >= limits.maxMessagesPerConversation) {
        return reject('TOO_MANY_MESSAGES', `a conversation holds at most ${limits.maxMessagesPerConversation} messages`);
      }
      if (state.messageIds.includes(messageId)) return reject('DUPLICATE_MESSAGE', 'message id already used', 'messageId');
      if (parentMessageId !== null && !state.messageIds.includes(parentMessageId)) {
        return reject('PARENT_NOT_FOUND', 'parent message not in this conversation', 'parentMessageId');
      }
      return accept({ type: 'MessageSubmitted', version: 2, data: { ...command.data, role: 'user' } });
    }
    case 'RenameConversation': {
      const { title } = command.data;
      if (title.length === 0) return reject('INVALID_FIELD', 'title is empty', 'title');
      if (title.length > limits.maxTitleChars) return tooLong('title', limits.maxTitleChars);
      return accept({ type: 'ConversationRenamed', version: 1, data: command.data });
    }
    case 'DeleteConversation':
      return accept({ type: 'ConversationDeleted', version: 1, data: command.data });
  }
}

// Exactly one input decision per message.
function recordInputCheck(command: RecordSafetyCheck, state: Extract<ConversationState, { status: 'active' | 'deleted' }>): Decision {
  const { stage, messageId } = command.data;
  if (stage !== 'input') return reject('INVALID_FIELD', 'a conversation records input checks only', 'stage');
  if (messageId === null || !state.messageIds.includes(messageId)) return reject('NOT_FOUND', 'message not in this conversation', 'messageId');
  if (state.checkedMessageIds.includes(messageId)) return reject('ALREADY_EXISTS', 'the message already has its input decision', 'messageId');
  return accept({ type: 'SafetyChecked', version: 1, data: command.data });
}

function tooLong(field: string, max: number): Decision {
  return reject('INVALID_FIELD', `${field} is longer than ${max} characters`, field);
}
