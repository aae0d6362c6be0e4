import type { Command } from 'commander';
import { ModelRegistry } from '../../inference/models/index.ts';
import { DEFAULT_GOLDEN_SET, scoreGoldenGate, scoreGoldenSet, type GoldenFailure } from '../../inference/models/golden-gate.ts';
import { resolveModelDir } from '../../inference/engine/model.ts';
import { loadConfig } from '../config.ts';
import { operatorActor, withOperatorEnv } from '../operator-env.ts';

// `parley model promote <name> [--threshold 0.9] [--golden FILE]`: the golden-set gate. The candidate
// (a name from PARLEY_MODELS) answers the golden set. By default the per-skill gate CI runs on the
// shipped model (every skill at its floor on the gate's subset); with --threshold, the share of the
// whole set. Passed: PromoteModel records ModelPromoted on the `models` stream and running processes
// take it as their default; refused: the failing items are printed, nothing is recorded, exit status 1.
export function registerModel(program: Command) {
  const model = program.command('model').description('the served models (PARLEY_MODELS)');
  model
    .command('promote <name>')
    .description('run the golden-set gate on a model and make it the default if it passes')
    .option('--threshold <fraction>', 'instead of the per-skill gate: minimum share of the whole golden set answered exactly')
    .option('--golden <file>', 'the golden set (JSONL)', DEFAULT_GOLDEN_SET)
    .option('--operator <id>', 'who promotes (recorded on the event)', 'cli-operator')
    .action(async (name: string, opts: { threshold?: string; golden: string; operator: string }) => {
      const threshold = opts.threshold === undefined ? undefined : Number(opts.threshold);
      if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) throw new Error('--threshold must be a fraction between 0 and 1');
      const config = loadConfig();
      const registry = ModelRegistry.fromSources({ ...config, modelDir: resolveModelDir({ MODEL_DIR: config.MODEL_DIR }) });
      const served = registry.get(name);
      if (!served) throw new Error(`no model named "${name}" in PARLEY_MODELS (defined: ${registry.names().join(', ')})`);

      const verdict = threshold === undefined ? await perSkillGate(name, served.dir, opts.golden) : await wholeSetGate(name, served.dir, opts.golden, threshold);
      if (verdict.refused) {
        for (const f of verdict.failures.slice(0, 20)) console.log(`  FAIL [${f.kind}] ${f.prompt}\n       expected: ${f.expected}\n       got:      ${f.got}`);
        if (verdict.failures.length > 20) console.log(`  … and ${verdict.failures.length - 20} more`);
        // Thrown: the CLI prints it and exits with status 1 (process.exitCode did not survive onnxruntime's teardown here).
        throw new Error(`REFUSED: ${name} is below ${verdict.refused}; nothing recorded`);
      }
      await withOperatorEnv(async (env) => {
        const actor = operatorActor(opts.operator, 'system', ['platform_operator']);
        const result = await env.commands.execute({
          type: 'PromoteModel',
          data: verdict.data,
          metadata: { commandId: env.newId(), actor },
        });
        if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
        const event = result.events[0];
        const previous = event?.type === 'ModelPromoted' ? event.data.previous : null;
        console.log(`PROMOTED: ${name} is the default (ModelPromoted at position ${result.position}; previously promoted: ${previous ?? 'none'})`);
      });
    });
}

type Verdict = {
  refused: string | null;
  failures: GoldenFailure[];
  data: { model: string; goldenSet: string; passed: number; total: number; threshold: number; skills?: { skill: string; ok: number; n: number; floor: number }[] };
};

async function perSkillGate(name: string, dir: string, golden: string): Promise<Verdict> {
  console.log(`golden-set gate ${golden} on ${name} (${dir}): every skill at its floor`);
  const score = await scoreGoldenGate(dir, { goldenFile: golden });
  for (const s of score.skills) console.log(`  ${s.ok / s.n >= s.floor ? 'ok  ' : 'LOW '} ${s.skill}: ${s.ok}/${s.n} (floor ${s.floor})`);
  console.log(`score: ${score.passed}/${score.total}`);
  const refused = score.below.length ? `the floor of ${score.below.map((s) => s.skill).join(', ')}` : null;
  const skills = score.skills.map(({ skill, ok, n, floor }) => ({ skill, ok, n, floor }));
  return { refused, failures: score.failures, data: { model: name, goldenSet: score.goldenSet, passed: score.passed, total: score.total, threshold: 0, skills } };
}

async function wholeSetGate(name: string, dir: string, golden: string, threshold: number): Promise<Verdict> {
  console.log(`golden set ${golden} on ${name} (${dir}), threshold ${threshold}`);
  const score = await scoreGoldenSet(dir, { goldenFile: golden, threshold });
  console.log(`score: ${score.passed}/${score.total}${score.stoppedEarly ? ` (stopped after ${score.scored} items: the threshold could no longer be reached)` : ''}`);
  const refused = score.passed / score.total >= threshold ? null : 'the threshold';
  return { refused, failures: score.failures, data: { model: name, goldenSet: score.goldenSet, passed: score.passed, total: score.total, threshold } };
}
