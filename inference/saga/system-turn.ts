import type { Memory } from '../../commands/memory.ts';
import type { Tool } from '../tools/index.ts';
import type { ChatModel, Thread } from './context-assembly.ts';
import { threadWithMemories } from './memory-context.ts';
import { withClientTools, withTools } from './offered-tools.ts';
import { withSources, type Source } from './retrieval-context.ts';

// The system turn of a turn's prompts, composed in this one place for the first round
// (request-batch.ts) and for every continuation after a round of server-side tool calls
// (tool-round.ts), so a continuation shows the model what the first round showed it, in the same
// order: the conversation's system prompt, the user's memories, the turn's sources, then the tools
// offered (the server's, or the client's own section). A recorded summary of earlier turns, when
// the first round used one, follows all of these (summary-context.ts, withRecordedSummary).
// The model's context length caps the memories (memory-context.ts capMemories).

export type SystemTurnBlocks = {
  /** the owner's memories (memory-context.ts) */
  memories: readonly Memory[];
  /** the turn's numbered sources (retrieval-context.ts) */
  sources: readonly Source[];
  /** the server-side tools offered */
  tools: readonly Tool[];
  /** the client's own tools section (MessageSubmitted.toolsPrompt) */
  toolsPrompt: string | null;
};

export function withSystemTurn(model: ChatModel, thread: Thread, b: SystemTurnBlocks): Thread {
  return withClientTools(withTools(withSources(threadWithMemories(model, thread, b.memories), b.sources), b.tools), b.toolsPrompt);
}
