// Stage 5 of the cascade: the classifier port, consulted only when the cheap stages are uncertain.
//
// Any model can sit behind the port (an ONNX model via onnxruntime-node, the chat model asked as
// a judge...). The implementation shipped here is a small one-vs-rest logistic regression over
// word unigrams and bigrams of the normalized text, trained from the labelled fixtures by
// safety/train-classifier.ts and stored as JSON (safety/models/linear-v1.json). Its measured
// quality is printed by tests/unit/safety-eval.test.ts; the cascade leaves it off by default.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SafetyCategory } from '../schemas/safety.ts';
import { normalize } from './normalize.ts';

export type ClassifierScores = Partial<Record<SafetyCategory, number>>;

/** The port. `classify` returns a probability per category it covers. */
export interface SafetyClassifier {
  readonly id: string;
  readonly categories: readonly SafetyCategory[];
  classify(text: string, signal?: AbortSignal): Promise<ClassifierScores>;
}

export const LinearModel = z.object({
  format: z.literal('parley-linear-v1'),
  id: z.string(),
  /** Free text: what it was trained on, when, with which settings. */
  trainedOn: z.string(),
  categories: z.partialRecord(
    SafetyCategory,
    z.object({ bias: z.number(), weights: z.record(z.string(), z.number()) }),
  ),
});
export type LinearModel = z.infer<typeof LinearModel>;

/** Features: distinct unigrams and bigrams (within a sentence) of the primary normalized variant. */
export function featuresOf(text: string): string[] {
  const words = normalize(text).text.split(' ').filter(Boolean);
  const out = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '|') continue; // sentence break
    out.add(words[i]);
    if (i + 1 < words.length && words[i + 1] !== '|') out.add(`${words[i]} ${words[i + 1]}`);
  }
  return [...out];
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Synchronous scoring, for evaluation and for callers that do not need the port. */
export function scoreLinear(model: LinearModel, text: string): ClassifierScores {
  const feats = featuresOf(text);
  const out: ClassifierScores = {};
  for (const [cat, m] of Object.entries(model.categories) as [SafetyCategory, { bias: number; weights: Record<string, number> }][]) {
    let z = m.bias;
    for (const f of feats) z += m.weights[f] ?? 0;
    out[cat] = sigmoid(z);
  }
  return out;
}

export function createLinearClassifier(model: LinearModel): SafetyClassifier {
  return {
    id: model.id,
    categories: Object.keys(model.categories) as SafetyCategory[],
    async classify(text, signal) {
      signal?.throwIfAborted();
      return scoreLinear(model, text);
    },
  };
}

export interface TrainingExample {
  readonly text: string;
  readonly labels: readonly SafetyCategory[];
}

export interface TrainOptions {
  readonly categories?: readonly SafetyCategory[];
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly l2?: number;
  /** Features seen in fewer examples are dropped. */
  readonly minCount?: number;
  readonly id?: string;
  readonly trainedOn?: string;
}

/**
 * Trains one logistic regression per category (full-batch gradient descent, L2, classes
 * re-weighted to balance positives and negatives). Deterministic: same data, same model.
 */
export function trainLinearModel(examples: readonly TrainingExample[], options: TrainOptions = {}): LinearModel {
  const categories = options.categories ?? SafetyCategory.options;
  const epochs = options.epochs ?? 300;
  const lr = options.learningRate ?? 0.5;
  const l2 = options.l2 ?? 1e-3;
  const minCount = options.minCount ?? 2;
  const featureLists = examples.map((e) => featuresOf(e.text));
  const df = new Map<string, number>();
  for (const fl of featureLists) for (const f of fl) df.set(f, (df.get(f) ?? 0) + 1);
  const vocab = [...df.keys()].filter((f) => df.get(f)! >= minCount).sort();
  const index = new Map(vocab.map((f, i) => [f, i]));
  const rows = featureLists.map((fl) => fl.map((f) => index.get(f)).filter((i): i is number => i !== undefined));
  const model: LinearModel = {
    format: 'parley-linear-v1',
    id: options.id ?? 'linear-v1',
    trainedOn: options.trainedOn ?? `${examples.length} examples`,
    categories: {},
  };
  for (const cat of categories) {
    const y = examples.map((e) => (e.labels.includes(cat) ? 1 : 0));
    const pos = y.reduce<number>((a, b) => a + b, 0);
    if (pos === 0) continue;
    const neg = y.length - pos;
    const wPos = y.length / (2 * pos);
    const wNeg = y.length / (2 * Math.max(1, neg));
    const w = new Float64Array(vocab.length);
    let b = 0;
    const grad = new Float64Array(vocab.length);
    for (let epoch = 0; epoch < epochs; epoch++) {
      grad.fill(0);
      let gb = 0;
      for (let i = 0; i < rows.length; i++) {
        let z = b;
        for (const j of rows[i]) z += w[j];
        const err = (sigmoid(z) - y[i]) * (y[i] ? wPos : wNeg);
        gb += err;
        for (const j of rows[i]) grad[j] += err;
      }
      const n = rows.length;
      for (let j = 0; j < w.length; j++) w[j] -= lr * (grad[j] / n + l2 * w[j]);
      b -= lr * (gb / n);
    }
    const weights: Record<string, number> = {};
    vocab.forEach((f, j) => {
      if (Math.abs(w[j]) >= 0.01) weights[f] = Math.round(w[j] * 1e4) / 1e4;
    });
    model.categories[cat] = { bias: Math.round(b * 1e4) / 1e4, weights };
  }
  return model;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MODEL_PATH = path.join(here, 'models', 'linear-v1.json');

export function loadLinearModel(file: string = DEFAULT_MODEL_PATH): LinearModel {
  return LinearModel.parse(JSON.parse(readFileSync(file, 'utf8')));
}
