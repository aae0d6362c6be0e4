import { context } from '@opentelemetry/api';
import type { CommandHandler } from '../../commands/command-handler.ts';
import type { CommandResult } from '../../commands/command-result.ts';
import type { EventStore, EventToAppend } from '../../eventstore/port.ts';
import type { EngineHandle, EngineToken, InferenceEngine } from '../../inference/engine/engine.ts';
import type { Projection } from '../../projections/projection.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from './logger.ts';
import { tracer } from './tracing.ts';

// Decorators applied where the app is composed (bin/app.ts), so the saga, the worker and the
// projections are measured and logged without knowing about metrics or logs.

/** Engine requests: vLLM-named histograms per request, ITL as tokens leave the engine, and
 *  engine.queue / prefill / decode spans (children of the caller's active span). */
export function instrumentEngine(engine: InferenceEngine, metrics: Metrics | null, modelName = 'default'): InferenceEngine {
  const label = { model_name: modelName };
  return {
    get model() { return engine.model; },
    stats: () => engine.stats(),
    metrics: () => engine.metrics(),
    close: () => engine.close(),
    submit(request, options) {
      const submittedAt = Date.now();
      const parent = context.active();
      const handle = engine.submit(request, options);
      let last = 0;
      const iterate = (): AsyncIterator<EngineToken> => {
        const it = handle[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await it.next();
            if (!r.done) {
              const now = performance.now();
              if (last) metrics?.engineItl.observe(label, (now - last) / 1000);
              last = now;
            }
            return r;
          },
          return: async () => (it.return ? it.return() : { value: undefined, done: true }),
        };
      };
      void handle.result.then((r) => {
        const end = Date.now();
        if (metrics) {
          metrics.engineE2e.observe(label, (end - submittedAt) / 1000);
          metrics.enginePromptTokens.observe(label, r.promptTokens);
          metrics.engineGenerationTokens.observe(label, r.completionTokens);
          if (r.completionTokens > 0) metrics.engineTtft.observe(label, r.ttftMs / 1000);
          if (r.queueMs !== undefined) metrics.engineQueue.observe(label, r.queueMs / 1000);
          if (r.completionTokens > 1) metrics.engineTpot.observe(label, r.tpotMs / 1000);
        }
        // Spans after the fact, with the engine's own timings.
        const t = tracer();
        const attributes = { 'parley.request_id': request.requestId, 'parley.prompt_tokens': r.promptTokens, 'parley.completion_tokens': r.completionTokens, 'parley.finish_reason': r.finishReason, 'parley.cached_prompt_tokens': r.cachedPromptTokens ?? 0, 'parley.preemptions': r.preemptions ?? 0 };
        const scheduled = submittedAt + (r.queueMs ?? 0);
        const first = submittedAt + r.ttftMs;
        t.startSpan('parley.engine.queue', { startTime: submittedAt, attributes }, parent).end(scheduled);
        if (r.completionTokens > 0) {
          t.startSpan('parley.prefill', { startTime: scheduled, attributes }, parent).end(Math.max(scheduled, first));
          t.startSpan('parley.decode', { startTime: first, attributes }, parent).end(Math.max(first, end));
        }
      }, () => undefined);
      const wrapped: EngineHandle = {
        requestId: handle.requestId,
        result: handle.result,
        [Symbol.asyncIterator]: iterate,
      };
      return wrapped;
    },
  };
}

type LoggedCommand = { type?: string; data?: Record<string, unknown>; metadata?: { correlationId?: string; causationId?: string; commandId?: string; actor?: { userId: string; tenantId: string } } };

/** Logs every command with its correlation and causation ids (never its content): one line per
 * execute/executeAll call, and per group of an executeMany (the saga's and workers' batches). */
export function loggedCommands(commands: CommandHandler, logger: Logger): CommandHandler {
  const quiet = new Set(['AppendTokens']);
  const log = (inputs: LoggedCommand[], result: CommandResult, ms: number) => {
    const first = inputs[0];
    const fields = {
      commands: inputs.map((c) => c.type),
      correlationId: first?.metadata?.correlationId ?? first?.metadata?.commandId,
      causationId: first?.metadata?.causationId,
      userId: first?.metadata?.actor?.userId,
      tenantId: first?.metadata?.actor?.tenantId,
      conversationId: first?.data?.conversationId,
      generationId: first?.data?.generationId,
      ok: result.ok,
      ...(result.ok ? {} : { code: result.error.code }),
      ms,
    };
    if (inputs.every((c) => quiet.has(c.type ?? ''))) logger.debug(fields, 'command');
    else logger.info(fields, 'command');
  };
  return new Proxy(commands, {
    get(target, prop, receiver) {
      if (prop === 'executeMany') {
        return async (groups: readonly unknown[][], options?: Parameters<CommandHandler['executeMany']>[1]) => {
          const started = performance.now();
          const results = await target.executeMany(groups, options);
          const ms = Math.round(performance.now() - started);
          results.forEach((r, i) => log(groups[i] as LoggedCommand[], r, ms));
          return results;
        };
      }
      if (prop !== 'execute' && prop !== 'executeAll') return Reflect.get(target, prop, receiver);
      return async (input: unknown, options?: Parameters<CommandHandler['executeAll']>[1]) => {
        if (options?.dryRun) return target.executeAll(input as unknown[], options);
        const inputs = (prop === 'execute' ? [input] : input) as LoggedCommand[];
        const started = performance.now();
        const result = prop === 'execute' ? await target.execute(input) : await target.executeAll(inputs, options);
        log(inputs, result, Math.round(performance.now() - started));
        return result;
      };
    },
  });
}

/** Counts safety decisions as they are appended (saga: input, worker: output). */
export function observedStore<S extends EventStore>(store: S, metrics: Metrics): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      // A throw is counted, then rethrown: the caller's retry logic is unchanged.
      const failed = (e: unknown): never => {
        const name = e instanceof Error ? e.name + ' ' + e.message : '';
        metrics.appendErrors.inc({ kind: /conflict|concurrency|version/i.test(name) ? 'conflict' : 'error' });
        throw e;
      };
      const count = (events: readonly EventToAppend[]) => {
        for (const e of events) {
          if (e.type !== 'SafetyChecked') continue;
          const d = e.data as { stage: string; verdict: string; categories: { category: string; score: number; blocked: boolean }[]; degraded?: boolean };
          metrics.safety(d.stage, d.verdict, d.categories, d.degraded === true);
        }
      };
      if (prop === 'appendMany') {
        // Called on the target itself, so an adapter whose appendMany calls its own append is not counted twice.
        return async (appends: Parameters<EventStore['appendMany']>[0]) => {
          const results = await target.appendMany(appends).catch(failed);
          results.forEach((r, i) => { if (!r.duplicate) count(appends[i]!.events); });
          return results;
        };
      }
      if (prop !== 'append') return Reflect.get(target, prop, receiver);
      return async (streamId: string, events: EventToAppend[], options: Parameters<EventStore['append']>[2]) => {
        const result = await target.append(streamId, events, options).catch(failed);
        if (!result.duplicate) count(events);
        return result;
      };
    },
  });
}

/** Projections log each applied batch at debug level with the correlation ids it carried. */
export function loggedProjections(projections: Projection[], logger: Logger): Projection[] {
  return projections.map((p) => ({
    ...p,
    apply: async (...args: Parameters<Projection['apply']>) => {
      await p.apply(...args);
      const events = args[1];
      if (logger.isLevelEnabled('debug') && events.length) {
        logger.debug({ projection: p.name, events: events.length, correlationIds: [...new Set(events.map((e) => e.metadata.correlationId))].slice(0, 20) }, 'projection applied');
      }
    },
  }));
}

