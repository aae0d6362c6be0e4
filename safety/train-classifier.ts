// Trains the shipped linear classifier from the labelled fixture set and writes it as JSON.
//   node --import tsx safety/train-classifier.ts [labelled.jsonl] [out.json]
// Deterministic: the same data gives the same model. The holdout set is never used for training.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetyCategory } from '../schemas/safety.ts';
import { DEFAULT_MODEL_PATH, trainLinearModel, type TrainingExample } from './classifier.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const input = process.argv[2] ?? path.join(here, '..', 'tests', 'fixtures', 'safety', 'labelled.jsonl');
const output = process.argv[3] ?? DEFAULT_MODEL_PATH;

const examples: TrainingExample[] = readFileSync(input, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => {
    const row = JSON.parse(l) as { text: string; labels: string[] };
    return { text: row.text, labels: row.labels.map((x) => SafetyCategory.parse(x)) };
  });
const categories = SafetyCategory.options.filter((c) => c !== 'pii'); // PII is validated, not learned
const model = trainLinearModel(examples, {
  categories,
  id: 'linear-v1',
  trainedOn: `${path.basename(input)}: ${examples.length} examples; unigrams+bigrams (min count 2); logistic regression, 300 epochs, lr 0.5, l2 1e-3, balanced classes`,
});
writeFileSync(output, JSON.stringify(model) + '\n');
const weights = Object.values(model.categories).reduce((n, c) => n + Object.keys(c!.weights).length, 0);
console.log(`wrote ${output}: ${Object.keys(model.categories).length} categories, ${weights} weights`);
