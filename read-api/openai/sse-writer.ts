import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { OpenAiError } from './errors.ts';
import type { Call } from './intake.ts';
import { abandon, renewWhileRunning, settle } from './settlement.ts';
import { follow } from './answer-text.ts';
import { ToolCallStream, type Delta } from './tool-call-stream.ts';
import { recordClientToolCalls } from './client-tool-calls.ts';
import { chatCitations } from './citations.ts';
import { parseToolCalls } from '../../schemas/tool-call-format.ts';

// A streamed chat completion: `chat.completion.chunk` frames over Server-Sent Events, as OpenAI
// sends them — the role first, the text as it is released, the finish reason, the usage when asked,
// then `data: [DONE]` — with SSE comments as keep-alives while the request waits or the model thinks.

// An open event stream: writes that respect backpressure and stop once the client is gone, SSE
// comments as keep-alives while the request waits or the model thinks, and the stream slot renewed.
export type SseChannel = {
  signal: AbortSignal;
  write: (s: string) => Promise<void>;
  /** `data: <json>` — with `event: <name>` first when named (the Responses API names its events) */
  frame: (o: unknown, event?: string) => Promise<void>;
  close: () => void;
};

export function openSse(call: Call, res: ServerResponse, headers: Record<string, string>): SseChannel {
  const controller = new AbortController();
  const onClose = () => { if (!res.writableFinished) controller.abort(); };
  res.once('close', onClose);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no', ...headers,
  });
  let lastWrite = Date.now();
  const write = async (s: string) => {
    if (controller.signal.aborted || res.destroyed) return;
    lastWrite = Date.now();
    if (!res.write(s)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  const frame = (o: unknown, event?: string) => write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(o)}\n\n`);
  const keepAlive = setInterval(() => {
    if (Date.now() - lastWrite >= call.o.keepAliveMs && !res.destroyed) { lastWrite = Date.now(); res.write(': keep-alive\n\n'); }
  }, Math.max(50, Math.floor(call.o.keepAliveMs / 2)));
  const stopRenew = renewWhileRunning(call);
  return {
    signal: controller.signal, write, frame,
    close: () => {
      clearInterval(keepAlive);
      stopRenew();
      res.off('close', onClose);
      if (!res.writableEnded) res.end();
    },
  };
}

/** the diverged retry's error (see StreamedText) */
export const restartDiverged = () => new OpenAiError(500, 'the worker serving this completion failed and its retry produced different text; the partial answer above is void — retry the request', 'server_error', 'generation_restarted');

export async function respondStream(call: Call, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const id = `chatcmpl-${call.generationId}`;
  const created = Math.floor(Date.now() / 1000);
  const usageField = call.turn.includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id, object: 'chat.completion.chunk', created, model: call.model, system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageField,
  });
  const sse = openSse(call, res, headers);
  const { frame, write } = sse;
  try {
    await frame(chunk({ role: 'assistant', content: '' }, null));
    let first = true;
    let shown = ''; // the answer's text as streamed, for its citations
    // with tools offered, the text is read for tool calls (tool-call-stream.ts)
    const plan = call.turn.tools;
    const tools = plan && plan.mode !== 'none' ? new ToolCallStream(plan, call.generationId) : null;
    const send = async (deltas: Delta[]) => { for (const d of deltas) await frame(chunk(d, null)); };
    for await (const step of follow(call, sse.signal)) {
      if ('delta' in step) {
        if (first) { first = false; call.o.metrics?.gatewayTtft.observe({ stream: 'true' }, (performance.now() - call.started) / 1000); }
        shown += step.delta;
        await send(tools ? tools.push(step.delta) : [{ content: step.delta }]);
        continue;
      }
      if ('diverged' in step) {
        await frame(restartDiverged().body());
        await abandon(call, 'retried attempt diverged from the streamed text', 'restart_diverged');
        return;
      }
      const settled = await settle(call, step.end);
      if (settled instanceof OpenAiError) {
        call.summary.outcome = 'generation_failed';
        await frame(settled.body());
        return;
      }
      const { usage } = settled;
      if (tools) await send(tools.end());
      if (tools) await recordClientToolCalls(call, tools.calls);
      const finish = tools && tools.calls.length > 0 && settled.finish === 'stop' && !tools.cut ? 'tool_calls' : settled.finish;
      // The final chunk names where the generation ended in the event log, for read-your-writes, and
      // with retrieval in the turn the sources the answer cites (the official client's stream helper
      // copies a delta's extra fields onto the message it assembles).
      const citations = await chatCitations(call, parseToolCalls(shown).content);
      await frame({ ...chunk(citations ? { parley_citations: citations } : {}, finish), ...(step.end.position ? { x_parley_position: step.end.position } : {}) });
      if (call.turn.includeUsage) {
        await frame({
          id, object: 'chat.completion.chunk', created, model: call.model, system_fingerprint: null, choices: [],
          usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
        });
      }
      await write('data: [DONE]\n\n');
      return;
    }
    // The loop ended without an end: the client went away.
    await abandon(call);
  } finally {
    sse.close();
  }
}
