// `npm run eval:golden [-- --model DIR --golden FILE --per-kind N --min 0.9 --json --temperature T]`
// Scores the held-out golden set: greedy generation through the engine's Runner (ONNX Runtime; with
// --constrained, tool-offering items under the tools' call constraint, as the saga runs a turn),
// exact match of the whole reply (trimmed) against the expected answer; prints a per-skill table.
// --min: exit with status 1 if any skill scores below this fraction.
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadModel, resolveModelDir } from '../engine/model.ts';
import { Runner } from '../engine/runner.ts';
import { GOLDEN_FILE, loadGolden, scoreGolden, skillTable, subset } from './golden.ts';

const program = new Command()
  .option('--model <dir>', 'model folder (default: MODEL_DIR or the shipped model)')
  .option('--golden <file>', 'golden set (JSONL)', GOLDEN_FILE)
  .option('--min <score>', 'exit with status 1 if a skill scores below this fraction')
  .option('--per-kind <n>', 'only the first n items of each kind (the CI gate uses 6)')
  .option('--json', 'print the result as JSON')
  .option('--temperature <t>', 'sample at this temperature (seed = the item\'s index) instead of greedy: what a client that overrides the model\'s greedy default gets')
  .option('--constrained', 'items that offer tools generate under their call constraint, as the saga runs a turn (not the CI gate)')
  .parse();
const opts = program.opts<{ model?: string; golden: string; min?: string; perKind?: string; json?: boolean; constrained?: boolean; temperature?: string }>();

const model = loadModel(opts.model ?? resolveModelDir());
const runner = await Runner.create(model);
let items = loadGolden(opts.golden);
if (opts.perKind) items = subset(items, Number(opts.perKind));

const bar = new cliProgress.SingleBar(
  { format: 'golden [{bar}] {value}/{total} {percentage}% | ok {ok} | {duration}s', stream: process.stderr },
  cliProgress.Presets.shades_classic,
);
bar.start(items.length, 0, { ok: 0 });
let ok = 0;
const t0 = performance.now();
const r = await scoreGolden(model, runner, items, (good) => bar.increment(1, { ok: (ok += good ? 1 : 0) }), { constrained: opts.constrained, ...(opts.temperature !== undefined ? { temperature: Number(opts.temperature) } : {}) });
bar.stop();
const seconds = (performance.now() - t0) / 1000;
const min = opts.min === undefined ? undefined : Number(opts.min);
const below = min === undefined ? [] : r.skills.filter((s) => s.ok / s.n < min);
if (opts.json) {
  console.log(JSON.stringify({ model: model.config.name, score: r.ok / r.total, ...r, seconds, below }, null, 2));
} else {
  console.log(`model: ${model.config.name} (${model.config.dir})`);
  console.log(skillTable(r));
  for (const f of r.failures.slice(0, 20)) {
    const q = f.messages.map((m) => `${m.role}: ${m.content || JSON.stringify(m.tool_calls)}`).join(' | ');
    console.log(`  MISS [${f.kind}] ${q.slice(-300)}\n       expected: ${JSON.stringify(f.expected)}\n       got:      ${JSON.stringify(f.got)}`);
  }
  console.log(`generated ${r.tokens} tokens in ${seconds.toFixed(1)}s`);
  console.log(`golden score: ${r.ok}/${r.total} = ${((100 * r.ok) / r.total).toFixed(1)}%`);
  if (below.length) console.log(`below ${min}: ${below.map((s) => `${s.skill} ${s.ok}/${s.n}`).join(', ')}`);
}
await runner.session.release();
if (below.length) process.exit(1);
