// `npm run eval:golden [-- --model DIR --golden FILE --per-kind N --min 0.9 --json --temperature T]`
// Scores the held-out golden set: greedy generation through the engine's Runner (ONNX Runtime; with
// --constrained, tool-offering items under the tools' call constraint, as the saga runs a turn),
// exact match of the whole reply (trimmed) against the expected answer; prints a per-skill table.
// --min: exit with status 1 if any skill scores below this fraction. Bad options, a missing golden
// set or model: one line on stderr, exit status 2.
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { z } from 'zod';
import { loadModel, ModelLoadError, resolveModelDir, type LoadedModel } from '../engine/model.ts';
import { Runner } from '../engine/runner.ts';
import { GOLDEN_FILE, loadGolden, scoreGolden, skillTable, subset, type GoldenItem } from './golden.ts';

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

// Options are checked before anything loads: a number that is not one (`--min abc`, `--min 99%`)
// used to become NaN, which no comparison fails, so the run printed a table and exited 0. Bad
// input: one line on stderr and exit status 2 (1 stays "a skill scored below --min").
function usage(message: string): never {
  console.error(`eval-golden: ${message}`);
  process.exit(2);
}
// A number option in [lo, hi] (whole with `int`); Number('') is 0, so an empty value is refused too.
const numberIn = (says: string, lo: number, hi: number, int = false) => z.string().transform((s, ctx) => {
  const n = s.trim() === '' ? Number.NaN : Number(s);
  if (!(n >= lo && n <= hi) || (int && !Number.isInteger(n))) ctx.addIssue({ code: 'custom', message: says });
  return n;
}).optional();
const Options = z.object({
  min: numberIn('--min must be a fraction between 0 and 1', 0, 1),
  perKind: numberIn('--per-kind must be a whole number ≥ 1', 1, Number.MAX_SAFE_INTEGER, true),
  // SamplingParams' range: what a client may ask for
  temperature: numberIn('--temperature must be a number between 0 and 2', 0, 2),
});
const checked = Options.safeParse(opts);
if (!checked.success) usage(checked.error.issues[0]!.message);
const { min, perKind, temperature } = checked.data;

let items: GoldenItem[];
try {
  items = loadGolden(opts.golden);
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  usage(e.code === 'ENOENT' ? `no golden set at ${opts.golden}` : `cannot read the golden set: ${e.message}`);
}
if (perKind !== undefined) items = subset(items, perKind);
if (items.length === 0) usage(`the golden set ${opts.golden} has no items`);

let model: LoadedModel;
try {
  model = loadModel(opts.model ?? resolveModelDir());
} catch (error) {
  if (!(error instanceof ModelLoadError)) throw error;
  usage(error.message);
}
const runner = await Runner.create(model);

const bar = new cliProgress.SingleBar(
  { format: 'golden [{bar}] {value}/{total} {percentage}% | ok {ok} | {duration}s', stream: process.stderr },
  cliProgress.Presets.shades_classic,
);
bar.start(items.length, 0, { ok: 0 });
let ok = 0;
const t0 = performance.now();
const r = await scoreGolden(model, runner, items, (good) => bar.increment(1, { ok: (ok += good ? 1 : 0) }), { constrained: opts.constrained, ...(temperature !== undefined ? { temperature } : {}) });
bar.stop();
const seconds = (performance.now() - t0) / 1000;
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
