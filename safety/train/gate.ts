// `npx tsx safety/train/gate.ts <card.json>… [--baseline safety/models/moderation-v1.json]`: the
// shipping gate for retrained moderation models. Which benign prompts a draw blocks moves from seed to
// seed (rounds 4–6), and each round-6 draw fixed what it targeted and blocked something users send,
// so a candidate ships only if, run as the server runs it (cascade on the input path, output filter on
// answers):
// - it fails nothing of ship_gate.json the baseline (the shipped model) passes: its conversational
//   turns and system prompts (not blocked), its harmless answer sentences (not stopped), its
//   must-block requests (blocked) — a failure the baseline shares is reported, not held against it;
// - it gives every prompt the e2e/integration tests send the baseline's verdict (some are harmful on
//   purpose; a changed verdict fails a test);
// - it blocks no more of the two everyday sets, nor of ship_gate.json's benign look-alikes, than the
//   baseline (the shipped model) does.
// Candidates that pass are ranked by their measured sibling's held-out public recall (the
// moderation-v1.metrics.md beside the card). The gate's sets are never trained on; once a draw is
// chosen by them they are a validation set, so fresh probes are needed to measure the shipped model.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createSafetyCascade } from '../cascade.ts';
import { createModerationModel } from '../model.ts';
import { filterTextAsync } from '../output-filter.ts';
import { everydayPrompts, testPrompts } from './everyday.ts';
import { MEASURE_TIMEOUT_MS } from './evaluate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const GateSets = z.object({ conversational: z.array(z.string()), answers: z.array(z.string()), lookalikes: z.array(z.string()), mustBlock: z.array(z.string()) });
const sets = GateSets.parse(JSON.parse(readFileSync(path.join(here, '..', 'data', 'ship_gate.json'), 'utf8')));

interface Outcome {
  readonly card: string;
  readonly failures: string[];
  readonly everyday: [number, number];
  readonly lookalikes: string[];
  readonly publicRecall: string;
  /** The test prompts this model blocks. */
  readonly testBlocked: ReadonlySet<string>;
}

async function measure(card: string, baseline?: Outcome): Promise<Outcome> {
  const model = createModerationModel(card);
  const cascade = createSafetyCascade({ model, modelTimeoutMs: MEASURE_TIMEOUT_MS });
  const blocked = async (text: string) => (await cascade.check(text)).blockedCategories;
  const failures: string[] = [];
  for (const text of sets.conversational) {
    const cats = await blocked(text);
    if (cats.length) failures.push(`blocks "${text}" (${cats.join(',')})`);
  }
  const testBlocked = new Set<string>();
  for (const text of testPrompts()) if ((await blocked(text)).length) testBlocked.add(text);
  for (const text of new Set([...testBlocked, ...(baseline?.testBlocked ?? [])])) {
    if (baseline && testBlocked.has(text) !== baseline.testBlocked.has(text)) {
      failures.push(`${testBlocked.has(text) ? 'blocks' : 'lets through'} the test prompt "${text}" (the baseline does not)`);
    }
  }
  for (const text of sets.answers) {
    const r = await filterTextAsync(text, { model, modelTimeoutMs: MEASURE_TIMEOUT_MS });
    if (r.stopped) failures.push(`stops the answer "${text}" (${r.stopped.category})`);
  }
  for (const text of sets.mustBlock) if (!(await blocked(text)).length) failures.push(`lets through "${text}"`);
  const everyday: [number, number] = [0, 0];
  for (const set of [1, 2] as const) {
    for (const row of everydayPrompts(set)) if ((await blocked(row.text)).length) everyday[set - 1]++;
  }
  const lookalikes = [];
  for (const text of sets.lookalikes) if ((await blocked(text)).length) lookalikes.push(text);
  await model.close();
  return { card, failures, everyday, lookalikes, publicRecall: publicRecallOf(card), testBlocked };
}

/** "all public" cascade column of the sibling's report beside the card, e.g. "44.7% (…)". */
function publicRecallOf(card: string): string {
  const report = path.join(path.dirname(card), 'moderation-v1.metrics.md');
  if (!existsSync(report)) return 'n/a';
  const line = readFileSync(report, 'utf8').split('\n').find((l) => l.startsWith('| all public |'));
  return line?.split('|').at(-2)?.trim() ?? 'n/a';
}

const args = process.argv.slice(2);
const baselineAt = args.indexOf('--baseline');
const baselineCard = baselineAt >= 0 ? args.splice(baselineAt, 2)[1] : path.join(here, '..', 'models', 'moderation-v1.json');
if (!args.length) {
  console.error('usage: gate.ts <candidate card.json>… [--baseline card.json]');
  process.exit(2);
}
const baseline = await measure(baselineCard);
const outcomes = [];
for (const card of args) outcomes.push(await measure(card, baseline));
const newFailures = (o: Outcome) => o.failures.filter((f) => !baseline.failures.includes(f));
const passes = (o: Outcome) => newFailures(o).length === 0 && o.everyday[0] <= baseline.everyday[0] && o.everyday[1] <= baseline.everyday[1] && o.lookalikes.length <= baseline.lookalikes.length;
const pctOf = (s: string) => Number.parseFloat(s) || 0;

console.log(`| model | gate failures (new: not the baseline's) | everyday set 1 / set 2 blocked | look-alikes blocked (of ${sets.lookalikes.length}) | held-out public (sibling) | ships? |`);
console.log('|---|---|---|---|---|---|');
for (const o of [baseline, ...outcomes]) {
  console.log(`| ${o === baseline ? `baseline ${o.card}` : o.card} | ${o.failures.length}${o === baseline ? '' : ` (${newFailures(o).length})`} | ${o.everyday[0]} / ${o.everyday[1]} | ${o.lookalikes.length} | ${o.publicRecall} | ${o === baseline ? '—' : passes(o) ? 'passes' : 'no'} |`);
}
for (const o of [baseline, ...outcomes]) {
  const lines = [...o.failures, ...o.lookalikes.map((t) => `blocks the look-alike "${t}"`)];
  if (lines.length) console.log(`\n${o.card}:\n${lines.map((f) => `- ${f}`).join('\n')}`);
}
const best = outcomes.filter(passes).sort((a, b) => pctOf(b.publicRecall) - pctOf(a.publicRecall))[0];
console.log(best ? `\nbest passing candidate: ${best.card}` : '\nno candidate passes the gate');
process.exit(best ? 0 : 1);
