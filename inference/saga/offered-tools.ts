import { renderToolsSystemPrompt, toolFunctions, type Tool } from '../tools/index.ts';
import type { Thread } from './context-assembly.ts';

// The thread with the tools offered in its system turn (Qwen2.5's <tools></tools> section), when
// any are on for the tenant.
export function withTools(thread: Thread, tools: readonly Tool[]): Thread {
  if (tools.length === 0) return thread;
  return { ...thread, systemPrompt: renderToolsSystemPrompt(thread.systemPrompt, toolFunctions(tools)) };
}
