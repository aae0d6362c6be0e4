// `npm run safety:train`: generates the training set (generate.ts), computes the hashed features
// (the same code the server runs), trains and exports the model with Debian's python3-torch
// (train.py), then measures it on the held-out split with onnxruntime-node, the way the server
// runs it, and writes the model card's numbers. Seeded: `--seed N` (default 16); `--more-intents`
// adds the lexicon-more.ts experiment's intents.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { byteIds, featureIds, BUCKETS, MAX_BYTES, MAX_FEATURES } from '../features.ts';
import { MODEL_CATEGORIES, OPT_IN_SOURCES, PUBLIC_FILES, generate, isPublic, isTest, type PublicSource } from './generate.ts';
import { evaluateModel } from './evaluate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelsDir = path.join(here, '..', 'models');
const seedArg = process.argv.indexOf('--seed');
const seed = seedArg > 0 ? Number(process.argv[seedArg + 1]) : 16;
// --more-intents: the lexicon-more.ts experiment (see the model card); not the shipped recipe.
const moreIntents = process.argv.includes('--more-intents');
// --experiment: train and measure only the held-out model; print its report, touch no committed file.
const experiment = process.argv.includes('--experiment');
// --candidate DIR: the whole recipe (measured sibling + final model), but the report, model and card go
// to DIR, not to the committed files: several seeds can be drawn side by side and gated (gate.ts)
// before one is copied into safety/models.
const candidateArg = process.argv.indexOf('--candidate');
const candidate = candidateArg > 0 ? path.resolve(process.argv[candidateArg + 1]) : null;
// --py "<args>": extra train.py arguments (e.g. "--benign-fp 0.01 --min-threshold 0.5"), for experiments
// and for the shipped recipe alike (recorded in the card's trainedOn).
const pyArg = process.argv.indexOf('--py');
const pyExtra = pyArg > 0 ? process.argv[pyArg + 1].split(' ').filter(Boolean) : [];

// --with-source a,b: also the opt-in public sets (OPT_IN_SOURCES: the round-3 sets, not in the shipped
// recipe); --drop-source a,b: leave those public sets (PUBLIC_FILES keys) out entirely, e.g. to measure
// the data mix before a round added them, on the same tree.
const listArg = (flag: string): string[] => {
  const i = process.argv.indexOf(flag);
  const xs = i > 0 ? process.argv[i + 1].split(',').filter(Boolean) : [];
  for (const x of xs) if (!(x in PUBLIC_FILES)) throw new Error(`${flag}: no public set ${x} (${Object.keys(PUBLIC_FILES).join(', ')})`);
  return xs;
};
const added = listArg('--with-source');
const dropped = listArg('--drop-source');
const publicSources = (Object.keys(PUBLIC_FILES) as PublicSource[]).filter((s) => (!OPT_IN_SOURCES.includes(s) || added.includes(s)) && !dropped.includes(s));
// Round 5's benign rows, each can be left out (all four out: the round-4 rows, on the same tree):
// --no-questions: the everyday questions (everyday-questions.ts TOPICS × QUESTION_SHAPES);
// --no-intents-2: the everyday requests of everyday-train.ts EVERYDAY_INTENTS_2;
// --no-named: the questions about made-up names (NAMED_SHAPES);
// --no-tool-questions: the questions for Parley's tools (TOOL_QUESTION_SHAPES);
// --chat-moves (opt-in, round 6, not shipped): what people say mid-conversation and sentences of
// harmless answers (CHAT_MOVES, ANSWER_SENTENCES).
const everydayQuestions = !process.argv.includes('--no-questions');
const everydayIntents2 = !process.argv.includes('--no-intents-2');
const namedQuestions = !process.argv.includes('--no-named');
const toolQuestions = !process.argv.includes('--no-tool-questions');
const chatMoves = process.argv.includes('--chat-moves');
// --round8 (opt-in): the intents of lexicon-round8.ts.
const round8 = process.argv.includes('--round8');
// --written (opt-in, round 9): the requests of safety/data/written_requests.jsonl.
const written = process.argv.includes('--written');
const rows = generate(seed, { moreIntents, round8, publicSources, everydayQuestions, everydayIntents2, namedQuestions, toolQuestions, chatMoves, written });
// --hold-out-source <name>: every row of that public set is test (with --experiment: how the model
// does on a source it never saw any row of, e.g. ailuminate).
const holdArg = process.argv.indexOf('--hold-out-source');
const heldSource = holdArg > 0 ? `${process.argv[holdArg + 1]}/` : null;
const split = (group: string): 'train' | 'val' | 'test' =>
  (isTest(group) || (heldSource !== null && group.startsWith(heldSource)) ? 'test' : isTest(`val:${group}`, 0.12) ? 'val' : 'train');
const work = path.join(os.tmpdir(), `parley-safety-train-${process.pid}`);
mkdirSync(work, { recursive: true });
const dataFile = path.join(work, 'features.jsonl');

console.log(`safety:train: ${rows.length} rows (seed ${seed}); features → ${dataFile}`);
const bar = new cliProgress.SingleBar({ format: '  features [{bar}] {value}/{total}' }, cliProgress.Presets.legacy);
bar.start(rows.length, 0);
const lines = [JSON.stringify({ meta: { categories: MODEL_CATEGORIES, buckets: BUCKETS, maxFeatures: MAX_FEATURES, seed } })];
// --public-weight N (round 9): each training row of a public set (written by people, not by our
// templates) is seen N times per epoch (held-out rows too, for the --final model that learns them);
// validation rows once.
const weightArg = process.argv.indexOf('--public-weight');
const publicWeight = weightArg > 0 ? Number(process.argv[weightArg + 1]) : 1;
if (!Number.isInteger(publicWeight) || publicWeight < 1) throw new Error('--public-weight: a whole number ≥ 1');
rows.forEach((r, i) => {
  // bytes: for train.py --arch cnn / cnn+bag (round 4); the bag ignores them.
  const part = split(r.group);
  const line = JSON.stringify({ ids: featureIds(r.text), bytes: byteIds(r.text), labels: r.labels, split: part });
  const copies = isPublic(r) && part !== 'val' ? publicWeight : 1;
  for (let k = 0; k < copies; k++) lines.push(line);
  if (i % 200 === 0) bar.update(i);
});
bar.update(rows.length);
bar.stop();
writeFileSync(dataFile, lines.join('\n') + '\n');

const onnx = 'moderation-v1.onnx';
const counts = { train: 0, val: 0, test: 0 };
for (const r of rows) counts[split(r.group)]++;

/** Runs train.py and writes the model and its card into `dir`; returns the card's path. */
function trainInto(dir: string, final: boolean): string {
  const args = [path.join(here, 'train.py'), '--data', dataFile, '--out', path.join(dir, onnx), '--seed', String(seed), ...(final ? ['--final'] : []), ...pyExtra];
  const py = spawnSync('/usr/bin/python3', args, { stdio: 'inherit' });
  if (py.status !== 0) {
    console.error('train.py failed (is python3-torch installed? apt-get install -y python3-torch python3-onnx)');
    process.exit(1);
  }
  const thresholdsFile = path.join(dir, `${onnx}.thresholds.json`);
  const thresholds = JSON.parse(readFileSync(thresholdsFile, 'utf8')) as Record<string, number>;
  rmSync(thresholdsFile);
  // The ONNX inputs (train.py --arch): ['ids'] for the bag; a char-CNN also takes 'bytes'.
  const inputsFile = path.join(dir, `${onnx}.inputs.json`);
  const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as string[];
  rmSync(inputsFile);
  const trainRows = final ? counts.train + counts.test : counts.train;
  const card = {
    format: 'parley-moderation-v1',
    // The id carries the file's hash: a retrained model is a new policy version in SafetyChecked events.
    id: `moderation-v1.${createHash('sha256').update(readFileSync(path.join(dir, onnx))).digest('hex').slice(0, 12)}`,
    onnx,
    categories: MODEL_CATEGORIES,
    buckets: BUCKETS,
    maxFeatures: MAX_FEATURES,
    ...(inputs.includes('bytes') ? { inputs, maxBytes: MAX_BYTES } : {}),
    thresholds,
    trainedOn: `safety:train seed ${seed}: trained on ${trainRows} of ${rows.length} rows${final ? ' (train + held-out split; its sibling trained without the held-out split is the one measured in the model card)' : ' (held-out split excluded)'}, calibrated on ${counts.val}${chatMoves ? '; --chat-moves' : ''}${publicWeight > 1 ? `; --public-weight ${publicWeight}` : ''}${round8 ? '; --round8' : ''}${written ? '; --written' : ''}${pyExtra.length ? `; train.py ${pyExtra.join(' ')}` : ''}; generated requests in en/fr/es/de/it/pt + public sets in safety/data/SOURCES.md${added.length || dropped.length ? ` (${publicSources.join(', ')})` : ''} + tests/fixtures/safety/labelled.jsonl`,
  };
  const cardFile = path.join(dir, 'moderation-v1.json');
  writeFileSync(cardFile, JSON.stringify(card, null, 2) + '\n');
  return cardFile;
}

console.log('1/2: the measured model, trained without the held-out split');
const measuredCard = trainInto(work, false);
const report = await evaluateModel(rows.filter((r) => split(r.group) === 'test'), rows, split, measuredCard);
if (experiment) {
  console.log(report);
  console.log(`experiment: model and card in ${work}; nothing committed was written`);
  process.exit(0);
}
const reportDir = candidate ?? modelsDir;
const benchFile = candidate ? path.join(candidate, 'safety-model.md') : path.join(here, '..', '..', 'bench', 'results', 'safety-model.md');
mkdirSync(reportDir, { recursive: true });
mkdirSync(path.dirname(benchFile), { recursive: true });
writeFileSync(path.join(reportDir, 'moderation-v1.metrics.md'), report);
writeFileSync(benchFile, `# Moderation model, measured on the held-out split (written by npm run safety:train)\n\n${report}`);
console.log(report);
console.log('2/2: the shipped model, trained on the held-out split too');
trainInto(reportDir, true);
console.log(`wrote ${path.relative(process.cwd(), reportDir) || '.'}/moderation-v1.{onnx,json} and moderation-v1.metrics.md`);
