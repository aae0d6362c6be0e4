import type { CommandOf } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { accept, reject, type Decision } from './decision.ts';

// Rolling summaries on a conversation's stream: the saga records one when a summary generation
// completed. The decider keeps the log honest: a summary covers messages of this conversation,
// from its first, and is recorded once (summaryId = the generation's id), never on a deleted or
// unknown conversation. Only the saga (a platform actor) sends the command; the summary's text is
// the model's answer, checked only for its size.

export type SummaryState = {
  status: 'none' | 'active' | 'deleted';
  messageIds: string[];
  summaries: Set<string>;
};

export const initialSummaryState = (): SummaryState => ({ status: 'none', messageIds: [], summaries: new Set() });

export function evolveSummary(state: SummaryState, event: ParleyEvent): SummaryState {
  switch (event.type) {
    case 'ConversationStarted':
      return { ...state, status: 'active' };
    case 'MessageSubmitted':
      return { ...state, messageIds: [...state.messageIds, event.data.messageId] };
    case 'ConversationDeleted':
    case 'ConversationErased':
      return { ...state, status: 'deleted' };
    case 'ConversationSummarized':
      return { ...state, summaries: new Set(state.summaries).add(event.data.summaryId) };
    default:
      return state;
  }
}

export const SUMMARY_MAX_CHARS = 20_000;

export function decideSummary(command: CommandOf<'SummarizeConversation'>, state: SummaryState): Decision {
  const d = command.data;
  if (state.status === 'none') return reject('NOT_FOUND', 'conversation not found', 'conversationId');
  if (state.status === 'deleted') return reject('CONVERSATION_DELETED', 'conversation is deleted', 'conversationId');
  if (state.summaries.has(d.summaryId)) return reject('ALREADY_EXISTS', 'this summary is recorded', 'summaryId');
  const known = new Set(state.messageIds);
  const missing = d.messageIds.find((id) => !known.has(id));
  if (missing !== undefined) return reject('INVALID_FIELD', `message ${missing} is not in this conversation`, 'messageIds');
  if (new Set(d.messageIds).size !== d.messageIds.length) return reject('INVALID_FIELD', 'a message is covered twice', 'messageIds');
  if (d.previousSummaryId !== null && !state.summaries.has(d.previousSummaryId)) return reject('INVALID_FIELD', 'the previous summary is not recorded', 'previousSummaryId');
  if (d.text.length > SUMMARY_MAX_CHARS) return reject('INVALID_FIELD', `a summary holds at most ${SUMMARY_MAX_CHARS} characters`, 'text');
  return accept({ type: 'ConversationSummarized', version: 1, data: { ...d } });
}
