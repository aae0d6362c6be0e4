// The calls a completion makes to the CLIENT's own tools (OpenAI `tools`), recorded as events so
// that they are in history (`Message.toolCalls`, status requested) and in the audit like the
// server-side calls the saga runs (inference/saga/tool-round.ts) — through the same command and
// decider (RequestToolCall on the generation's stream). The client runs them; their results come
// back as role `tool` messages of a later request, recorded as ToolCallCompleted (client-tool-results.ts).
// Command ids are the call ids, so a retried record is ALREADY_EXISTS, not a second call.
import { readGeneration } from '../../commands/read-generation.ts';
import type { Call } from './intake.ts';
import type { ToolCall } from './tool-call-stream.ts';

export async function recordClientToolCalls(call: Call, calls: readonly ToolCall[]): Promise<void> {
  if (calls.length === 0) return;
  try {
    const view = await readGeneration(call.o.services.store, call.generationId);
    const messageId = view.request?.messageId;
    if (!messageId) return;
    for (const [index, c] of calls.entries()) {
      await call.o.services.commands.execute({
        type: 'RequestToolCall',
        data: { toolCallId: c.id, generationId: call.generationId, messageId, round: 1, index, name: c.function.name, arguments: c.function.arguments },
        metadata: { commandId: `openai:tool-call:${c.id}`, actor: call.actor, correlationId: call.requestId },
      });
    }
  } catch (error) {
    // The answer is already the client's: a failed record is logged, never turned into an error.
    call.o.logger.warn({ err: error, generationId: call.generationId }, 'recording the client tool calls failed');
  }
}
