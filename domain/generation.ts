import type { GenerationDeciderCommand } from '../schemas/commands.ts';
import type { DomainLimits } from '../schemas/config.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { packTokenIds } from '../schemas/prompt.ts';
import { canActOn } from './access.ts';
import { accept, reject, type Decision } from './decision.ts';

export type GenerationStatus = 'requested' | 'completed' | 'failed' | 'cancelled';

export type GenerationState =
  | { status: 'none' }
  | {
      status: GenerationStatus;
      generationId: string;
      conversationId: string;
      ownerId: string;
      tenantId: string;
      attempt: number; // 0 until the first tokens arrive
      nextIndex: number; // the index the next token chunk must start at
      // Tool calls made by its text, by id (requested once it completed).
      toolCalls: Record<string, ToolCallStatus>;
    };
export type ToolCallStatus = 'requested' | 'completed' | 'failed';

export const initialGenerationState = (): GenerationState => ({ status: 'none' });

export function evolveGeneration(state: GenerationState, event: ParleyEvent): GenerationState {
  switch (event.type) {
    case 'GenerationRequested':
      return {
        status: 'requested',
        generationId: event.data.generationId,
        conversationId: event.data.conversationId,
        ownerId: event.data.ownerId,
        tenantId: event.data.tenantId,
        attempt: 0,
        nextIndex: 0,
        toolCalls: {},
      };
    case 'TokensGenerated': {
      if (state.status === 'none') return state;
      return { ...state, attempt: event.data.attempt, nextIndex: event.data.firstIndex + event.data.tokenCount };
    }
    case 'GenerationCompleted':
      return state.status === 'none' ? state : { ...state, status: 'completed' };
    case 'GenerationFailed':
      return state.status === 'none' ? state : { ...state, status: 'failed' };
    case 'GenerationCancelled':
      return state.status === 'none' ? state : { ...state, status: 'cancelled' };
    case 'ToolCallRequested':
    case 'ToolCallCompleted':
    case 'ToolCallFailed': {
      if (state.status === 'none') return state;
      const status: ToolCallStatus = event.type === 'ToolCallRequested' ? 'requested' : event.type === 'ToolCallCompleted' ? 'completed' : 'failed';
      return { ...state, toolCalls: { ...state.toolCalls, [event.data.toolCallId]: status } };
    }
    default:
      return state;
  }
}

export function decideGeneration(command: GenerationDeciderCommand, state: GenerationState, limits: DomainLimits): Decision {
  if (command.type === 'RequestGeneration') {
    if (state.status !== 'none') return reject('ALREADY_EXISTS', 'generation already exists', 'generationId');
    return accept({ type: 'GenerationRequested', version: 2, data: command.data });
  }
  if (state.status === 'none') return reject('NOT_FOUND', 'generation not found', 'generationId');
  const actor = command.metadata.actor;

  switch (command.type) {
    case 'AppendTokens': {
      if (state.status !== 'requested') return notRunning(state.status);
      const { attempt, firstIndex } = command.data;
      if (attempt < state.attempt) return reject('STALE_ATTEMPT', `attempt ${attempt} was superseded by ${state.attempt}`, 'attempt');
      // A new attempt restarts the text from index 0; within an attempt indices are contiguous.
      const expected = attempt > state.attempt ? 0 : state.nextIndex;
      if (firstIndex !== expected) {
        return reject('TOKEN_INDEX_GAP', `tokens must continue at index ${expected}, got ${firstIndex}`, 'firstIndex');
      }
      const { tokenIds, ...chunk } = command.data;
      return accept({ type: 'TokensGenerated', version: 2, data: { ...chunk, tokenCount: tokenIds.length, tokens: packTokenIds(tokenIds) } });
    }
    case 'RecordSafetyCheck':
      // The output check, recorded by the worker while the generation runs (with its last chunk).
      if (command.data.stage !== 'output') return reject('INVALID_FIELD', 'a generation records output checks only', 'stage');
      if (state.status !== 'requested') return notRunning(state.status);
      return accept({ type: 'SafetyChecked', version: 1, data: command.data });
    case 'CompleteGeneration':
      if (state.status !== 'requested') return notRunning(state.status);
      if (command.data.attempt < state.attempt) return reject('STALE_ATTEMPT', 'a newer attempt owns this generation', 'attempt');
      return accept({ type: 'GenerationCompleted', version: 1, data: command.data });
    case 'FailGeneration':
      if (state.status !== 'requested') return notRunning(state.status);
      return accept({ type: 'GenerationFailed', version: 1, data: command.data });
    case 'CancelGeneration':
      if (!canActOn(actor, state)) {
        return reject('NOT_FOUND', 'generation not found', 'generationId');
      }
      if (state.status !== 'requested') return notRunning(state.status);
      return accept({ type: 'GenerationCancelled', version: 1, data: command.data });
    case 'RequestToolCall': {
      if (!canActOn(actor, state)) return reject('NOT_FOUND', 'generation not found', 'generationId');
      // A call is made by a finished text: only a completed generation requests one.
      if (state.status !== 'completed') return reject('GENERATION_NOT_COMPLETED', 'tool calls are requested once the generation completed', 'generationId');
      if (state.toolCalls[command.data.toolCallId]) return reject('ALREADY_EXISTS', 'tool call already requested', 'toolCallId');
      return accept({ type: 'ToolCallRequested', version: 1, data: { ...command.data, ...owner(state) } });
    }
    case 'CompleteToolCall':
    case 'FailToolCall': {
      // Someone else's call reads as missing (a client reports its own tools' results: the owner,
      // or Parley's saga, whose actor reaches every tenant).
      if (!canActOn(actor, state)) return reject('NOT_FOUND', 'tool call not found', 'toolCallId');
      const call = state.toolCalls[command.data.toolCallId];
      if (!call) return reject('NOT_FOUND', 'tool call not found', 'toolCallId');
      if (call !== 'requested') return reject('ALREADY_EXISTS', `tool call already ${call}`, 'toolCallId');
      return command.type === 'CompleteToolCall'
        ? accept({ type: 'ToolCallCompleted', version: 1, data: { ...command.data, ...owner(state) } })
        : accept({ type: 'ToolCallFailed', version: 1, data: { ...command.data, ...owner(state) } });
    }
    case 'GiveFeedback': {
      if (!canActOn(actor, state)) return reject('NOT_FOUND', 'generation not found', 'generationId');
      if (state.status !== 'completed') {
        return reject('GENERATION_NOT_COMPLETED', 'feedback is only accepted on a completed response', 'generationId');
      }
      const comment = command.data.comment?.trim() || null;
      if (comment !== null && comment.length > limits.maxCommentChars) {
        return reject('INVALID_FIELD', `comment is longer than ${limits.maxCommentChars} characters`, 'comment');
      }
      return accept({
        type: 'FeedbackGiven',
        version: 1,
        data: {
          generationId: state.generationId,
          conversationId: state.conversationId,
          userId: actor.userId,
          rating: command.data.rating,
          comment,
        },
      });
    }
  }
}

const owner = (s: Extract<GenerationState, { generationId: string }>) => ({ conversationId: s.conversationId, ownerId: s.ownerId, tenantId: s.tenantId });

const notRunning = (status: GenerationStatus): Decision =>
  reject('GENERATION_NOT_RUNNING', `generation is already ${status}`, 'generationId');
