import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

// Structured JSON logs (one object per line on stdout). They carry ids — request, correlation,
// conversation, generation, user, tenant — and never message or token text: the fields below are
// redacted should any caller pass them by mistake.
const REDACT = [
  'content', 'text', 'delta', 'messages', 'prompt', 'systemPrompt', 'title',
  '*.content', '*.text', '*.delta', '*.messages', '*.prompt', '*.systemPrompt', '*.title',
  'authorization', '*.authorization', 'headers.authorization',
];

export function createLogger(options: { level?: string; role?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? defaultLevel();
  return pino(
    {
      level,
      base: { service: 'parley', pid: process.pid, ...(options.role ? { role: options.role } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? process.stdout,
  );
}

// PARLEY_LOG_LEVEL wins; under `node --test` (NODE_TEST_CONTEXT) the default is warn, so test
// output is not flooded with access logs; otherwise info.
function defaultLevel(): string {
  return process.env.PARLEY_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? 'warn' : 'info');
}
