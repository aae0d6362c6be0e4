import { context, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';

// OpenTelemetry spans through @opentelemetry/api: without a registered provider every span is a
// no-op, so the code is instrumented always and exports only when configured:
//   PARLEY_OTEL_EXPORTER=otlp     OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT; default localhost:4318)
//   PARLEY_OTEL_EXPORTER=console  spans printed to stdout (debugging)
//   PARLEY_OTEL_EXPORTER=none     (default) nothing
// Spans: parley.http.request / parley.openai.chat_completion (API), parley.admission,
// parley.safety.input (saga), parley.context.assembly (saga), parley.queue.wait (worker),
// parley.generation (worker) with parley.engine.queue, parley.prefill and parley.decode beneath.
// The turn's correlation id is an attribute of each (processes are linked by it, not by context).

export const tracer = (): Tracer => trace.getTracer('parley');

export type TracingHandle = { shutdown: () => Promise<void>; provider: unknown };

let installed: TracingHandle | null = null;

export async function setupTracing(kind: string | undefined, serviceName = 'parley'): Promise<TracingHandle | null> {
  if (!kind || kind === 'none' || installed) return installed;
  const { TracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  let processor;
  if (kind === 'console') processor = new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() });
  else if (kind === 'otlp') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
  } else throw new Error(`PARLEY_OTEL_EXPORTER must be none, console or otlp (got ${kind})`);
  const provider = new TracerProvider({ spanProcessors: [processor], resource: resourceFromAttributes({ 'service.name': serviceName }) });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  installed = { provider, shutdown: () => provider.shutdown() };
  return installed;
}

/** Runs `fn` in an active span; records an exception and an error status when it throws. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
