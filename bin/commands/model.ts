import type { Command } from 'commander';
import { ModelRegistry } from '../../inference/models/index.ts';
import { DEFAULT_GOLDEN_SET, scoreGoldenSet } from '../../inference/models/golden-gate.ts';
import { resolveModelDir } from '../../inference/engine/model.ts';
import { loadConfig } from '../config.ts';
import { operatorActor, withOperatorEnv } from '../operator-env.ts';

// `parley model promote <name> [--threshold 0.9] [--golden FILE]`: the golden-set gate. The candidate
// (a name from PARLEY_MODELS) answers the golden set; at or above the threshold, PromoteModel
// records ModelPromoted on the `models` stream and running processes take it as their default;
// below it, the failing items are printed, nothing is recorded, and the exit status is 1.
export function registerModel(program: Command) {
  const model = program.command('model').description('the served models (PARLEY_MODELS)');
  model
    .command('promote <name>')
    .description('run the golden set on a model and make it the default if it scores at or above the threshold')
    .option('--threshold <fraction>', 'minimum share of golden items answered exactly', '0.9')
    .option('--golden <file>', 'the golden set (JSONL)', DEFAULT_GOLDEN_SET)
    .option('--operator <id>', 'who promotes (recorded on the event)', 'cli-operator')
    .action(async (name: string, opts: { threshold: string; golden: string; operator: string }) => {
      const threshold = Number(opts.threshold);
      if (!(threshold >= 0 && threshold <= 1)) throw new Error('--threshold must be a fraction between 0 and 1');
      const config = loadConfig();
      const registry = ModelRegistry.fromSources({ ...config, modelDir: resolveModelDir({ MODEL_DIR: config.MODEL_DIR }) });
      const served = registry.get(name);
      if (!served) throw new Error(`no model named "${name}" in PARLEY_MODELS (defined: ${registry.names().join(', ')})`);

      console.log(`golden set ${opts.golden} on ${name} (${served.dir}), threshold ${threshold}`);
      const score = await scoreGoldenSet(served.dir, { goldenFile: opts.golden, threshold });
      const pass = score.passed / score.total >= threshold;
      console.log(`score: ${score.passed}/${score.total}${score.stoppedEarly ? ` (stopped after ${score.scored} items: the threshold could no longer be reached)` : ''}`);
      if (!pass) {
        for (const f of score.failures.slice(0, 20)) console.log(`  FAIL [${f.kind}] ${f.prompt}\n       expected: ${f.expected}\n       got:      ${f.got}`);
        if (score.failures.length > 20) console.log(`  … and ${score.failures.length - 20} more`);
        // Thrown: the CLI prints it and exits with status 1 (process.exitCode did not survive onnxruntime's teardown here).
        throw new Error(`REFUSED: ${name} is below the threshold; nothing recorded`);
      }
      await withOperatorEnv(async (env) => {
        const actor = operatorActor(opts.operator, 'system', ['platform_operator']);
        const result = await env.commands.execute({
          type: 'PromoteModel',
          data: { model: name, goldenSet: score.goldenSet, passed: score.passed, total: score.total, threshold },
          metadata: { commandId: env.newId(), actor },
        });
        if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
        const event = result.events[0];
        const previous = event?.type === 'ModelPromoted' ? event.data.previous : null;
        console.log(`PROMOTED: ${name} is the default (ModelPromoted at position ${result.position}; previously promoted: ${previous ?? 'none'})`);
      });
    });
}
