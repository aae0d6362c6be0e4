// `npm run eval:golden [-- --model DIR --golden FILE --min 0.9 --json]`
// Scores the held-out golden set: greedy generation through the engine's Runner (ONNX Runtime),
// exact match of the whole reply (trimmed) against the expected answer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadModel, resolveModelDir } from '../engine/model.ts';
import { Runner } from '../engine/runner.ts';
import type { ChatMessage } from '../engine/chat-template.ts';

interface GoldenItem {
  kind: string;
  messages: ChatMessage[];
  answer: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const program = new Command()
  .option('--model <dir>', 'model folder (default: MODEL_DIR or the shipped model)')
  .option('--golden <file>', 'golden set (JSONL)', path.join(here, 'golden.jsonl'))
  .option('--min <score>', 'exit with status 1 if the score is below this fraction')
  .option('--limit <n>', 'only the first n items')
  .option('--json', 'print the result as JSON')
  .parse();
const opts = program.opts<{ model?: string; golden: string; min?: string; limit?: string; json?: boolean }>();

const model = loadModel(opts.model ?? resolveModelDir());
const runner = await Runner.create(model);
let items = readFileSync(opts.golden, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as GoldenItem);
if (opts.limit) items = items.slice(0, Number(opts.limit));

const byKind = new Map<string, { ok: number; n: number }>();
const failures: { messages: ChatMessage[]; expected: string; got: string }[] = [];
const bar = new cliProgress.SingleBar(
  { format: 'golden [{bar}] {value}/{total} {percentage}% | ok {ok} | {duration}s', stream: process.stderr },
  cliProgress.Presets.shades_classic,
);
bar.start(items.length, 0, { ok: 0 });
let ok = 0;
const t0 = performance.now();
let tokens = 0;
for (const item of items) {
  const ids = model.applyChatTemplate(item.messages);
  const res = await runner.complete(ids, { temperature: 0, maxTokens: 64 });
  tokens += res.completionTokens;
  const good = res.text.trim() === item.answer;
  const k = byKind.get(item.kind) ?? { ok: 0, n: 0 };
  k.n++;
  if (good) {
    ok++;
    k.ok++;
  } else failures.push({ messages: item.messages, expected: item.answer, got: res.text });
  byKind.set(item.kind, k);
  bar.increment(1, { ok });
}
bar.stop();
const seconds = (performance.now() - t0) / 1000;
const score = items.length ? ok / items.length : 0;
const kinds = Object.fromEntries([...byKind].sort().map(([k, v]) => [k, `${v.ok}/${v.n}`]));
if (opts.json) {
  console.log(JSON.stringify({ model: model.config.name, score, ok, total: items.length, kinds, failures, seconds, tokens }, null, 2));
} else {
  console.log(`model: ${model.config.name} (${model.config.dir})`);
  console.log(`by kind: ${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const f of failures.slice(0, 15)) {
    const q = f.messages.map((m) => `${m.role}: ${m.content}`).join(' | ');
    console.log(`  MISS ${q}\n       expected: ${f.expected}\n       got:      ${f.got}`);
  }
  console.log(`generated ${tokens} tokens in ${seconds.toFixed(1)}s`);
  console.log(`golden score: ${ok}/${items.length} = ${(100 * score).toFixed(1)}%`);
}
await runner.session.release();
if (opts.min !== undefined && score < Number(opts.min)) process.exit(1);
