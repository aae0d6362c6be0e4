import { renderToolsSystemPrompt, toolFunctions, type Tool } from '../tools/index.ts';
import { withToolsPrompt } from '../../schemas/tool-call-format.ts';
import type { Thread } from './context-assembly.ts';

// The thread with the tools offered in its system turn (Qwen2.5's <tools></tools> section), when
// any are on for the tenant.
export function withTools(thread: Thread, tools: readonly Tool[]): Thread {
  if (tools.length === 0) return thread;
  return { ...thread, systemPrompt: renderToolsSystemPrompt(thread.systemPrompt, toolFunctions(tools)) };
}

// The thread with the tools section a turn brought (MessageSubmitted.toolsPrompt: an OpenAI
// request's own tools), at the end of its system turn.
export function withClientTools(thread: Thread, toolsPrompt: string | null): Thread {
  if (!toolsPrompt) return thread;
  return { ...thread, systemPrompt: withToolsPrompt(thread.systemPrompt, toolsPrompt) };
}
