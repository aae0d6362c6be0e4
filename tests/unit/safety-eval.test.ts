// Quality of the cascade on the labelled sets, per category. Prints the tables; asserts floors
// set a little below what the cascade measured when they were written.
//
// labelled.jsonl: the set the rules were written and tuned against (in-sample: optimistic).
// holdout.jsonl: written after the rules and not tuned on (one plural-age bug was fixed after
// seeing it); the honest estimate, on a small sample.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SafetyCategory } from '../../schemas/safety.ts';
import {
  createLinearClassifier,
  createSafetyCascade,
  loadLinearModel,
  scoreLinear,
  trainLinearModel,
  type SafetyCascade,
} from '../../safety/index.ts';

interface Row {
  id: string;
  kind: string;
  labels: SafetyCategory[];
  text: string;
}
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'safety');
const load = (name: string): Row[] =>
  readFileSync(path.join(dir, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);

interface PR {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}
const pr = (tp: number, fp: number, fn: number): PR => ({
  tp,
  fp,
  fn,
  precision: tp + fp ? tp / (tp + fp) : 1,
  recall: tp + fn ? tp / (tp + fn) : 1,
});

type Predict = (row: Row) => Promise<Set<SafetyCategory>>;

async function evaluate(rows: Row[], predict: Predict): Promise<Record<SafetyCategory, PR>> {
  const counts = Object.fromEntries(SafetyCategory.options.map((c) => [c, { tp: 0, fp: 0, fn: 0 }])) as Record<
    SafetyCategory,
    { tp: number; fp: number; fn: number }
  >;
  for (const row of rows) {
    const got = await predict(row);
    for (const c of SafetyCategory.options) {
      const want = row.labels.includes(c);
      if (got.has(c) && want) counts[c].tp++;
      else if (got.has(c)) counts[c].fp++;
      else if (want) counts[c].fn++;
    }
  }
  return Object.fromEntries(SafetyCategory.options.map((c) => [c, pr(counts[c].tp, counts[c].fp, counts[c].fn)])) as Record<SafetyCategory, PR>;
}

const detected = (cascade: SafetyCascade): Predict => async (row) =>
  new Set((await cascade.check(row.text)).categories.filter((c) => c.severity !== 'NEGLIGIBLE').map((c) => c.category));
const blockedOrFlaggedPii = (cascade: SafetyCascade): Predict => async (row) => {
  const r = await cascade.check(row.text);
  // PII is flagged, not blocked, by default: count it as caught when detected.
  return new Set(r.categories.filter((c) => c.blocked || (c.category === 'pii' && c.severity !== 'NEGLIGIBLE')).map((c) => c.category));
};

function table(title: string, m: Record<SafetyCategory, PR>, cats: readonly SafetyCategory[] = SafetyCategory.options): string {
  const lines = [`${title}`, '  category          precision  recall   tp  fp  fn'];
  for (const c of cats) {
    const x = m[c];
    lines.push(`  ${c.padEnd(17)} ${x.precision.toFixed(2).padStart(9)} ${x.recall.toFixed(2).padStart(7)} ${String(x.tp).padStart(4)} ${String(x.fp).padStart(3)} ${String(x.fn).padStart(3)}`);
  }
  return lines.join('\n');
}

const labelled = load('labelled.jsonl');
const holdout = load('holdout.jsonl');
const cascade = createSafetyCascade();

function newCategoryFloors(): Record<'fraud_scams' | 'privacy' | 'cyber' | 'weapons' | 'violent_extremism' | 'misinformation', [number, number]> {
  return { fraud_scams: [0, 0], privacy: [0, 0], cyber: [0, 0], weapons: [0, 0], violent_extremism: [0, 0], misinformation: [0, 0] };
}

// Floors: [precision, recall] per category, detection (severity >= LOW).
const LABELLED_FLOORS: Record<SafetyCategory, [number, number]> = {
  harassment: [0.9, 0.95],
  hate: [0.9, 0.95],
  sexual: [0.9, 0.9],
  sexual_minors: [0.9, 0.95],
  dangerous: [0.75, 0.95],
  self_harm: [0.85, 0.95],
  pii: [0.95, 0.95],
  prompt_injection: [0.85, 0.95],
  // The categories added with issue 16 have no rows here; their measurement is the model card's
  // held-out split (safety/README.md). Precision here still catches rules firing on benign rows.
  ...newCategoryFloors(),
};
const HOLDOUT_FLOORS: Record<SafetyCategory, [number, number]> = {
  harassment: [0.8, 0.4],
  hate: [0.8, 0.4],
  sexual: [0.8, 0.8],
  sexual_minors: [0.8, 0.6],
  dangerous: [0.8, 0.5],
  self_harm: [0.6, 0.4],
  pii: [0.9, 0.9],
  prompt_injection: [0.8, 0.5],
  ...newCategoryFloors(),
};

describe('safety/eval: labelled sets', () => {
  it('fixtures are well-formed', () => {
    assert.ok(labelled.length >= 300, `labelled has ${labelled.length} rows`);
    const ids = new Set<string>();
    for (const r of [...labelled, ...holdout]) {
      assert.ok(!ids.has(r.id), `duplicate id ${r.id}`);
      ids.add(r.id);
      for (const l of r.labels) SafetyCategory.parse(l);
      assert.equal(typeof r.text, 'string');
    }
  });

  it('detection precision/recall per category (rules cascade, no classifier)', async () => {
    const inSample = await evaluate(labelled, detected(cascade));
    const held = await evaluate(holdout, detected(cascade));
    console.log(table(`labelled.jsonl (${labelled.length} rows, in-sample) — detected = severity >= LOW`, inSample));
    console.log(table(`holdout.jsonl (${holdout.length} rows, not tuned on) — detected = severity >= LOW`, held));
    for (const c of SafetyCategory.options) {
      assert.ok(inSample[c].precision >= LABELLED_FLOORS[c][0], `${c} labelled precision ${inSample[c].precision}`);
      assert.ok(inSample[c].recall >= LABELLED_FLOORS[c][1], `${c} labelled recall ${inSample[c].recall}`);
      assert.ok(held[c].precision >= HOLDOUT_FLOORS[c][0], `${c} holdout precision ${held[c].precision}`);
      assert.ok(held[c].recall >= HOLDOUT_FLOORS[c][1], `${c} holdout recall ${held[c].recall}`);
    }
  });

  it('blocking under default settings: harmful blocked, benign near-misses let through', async () => {
    const inSample = await evaluate(labelled, blockedOrFlaggedPii(cascade));
    const held = await evaluate(holdout, blockedOrFlaggedPii(cascade));
    console.log(table('labelled.jsonl — blocked under default settings (pii: flagged)', inSample));
    console.log(table('holdout.jsonl — blocked under default settings (pii: flagged)', held));
    let benign = 0;
    let falseBlocks = 0;
    for (const r of [...labelled, ...holdout]) {
      if (r.labels.length) continue;
      benign++;
      if ((await cascade.check(r.text)).verdict === 'blocked') falseBlocks++;
    }
    console.log(`benign rows blocked: ${falseBlocks}/${benign} (${((100 * falseBlocks) / benign).toFixed(1)}%)`);
    assert.ok(falseBlocks / benign <= 0.05, `false block rate ${falseBlocks}/${benign}`);
    for (const c of ['sexual_minors', 'dangerous'] as const) assert.ok(inSample[c].recall >= 0.95, `${c} block recall`);
  });
});

describe('safety/eval: classifier (off by default)', () => {
  const trainCats = SafetyCategory.options.filter((c) => c !== 'pii');
  it('the shipped model is exactly what the trainer produces from labelled.jsonl', () => {
    const shipped = loadLinearModel();
    const retrained = trainLinearModel(labelled, { categories: trainCats, id: shipped.id, trainedOn: shipped.trainedOn });
    assert.deepEqual(retrained, shipped);
  });

  it('measured quality: 5-fold CV on labelled, and trained-on-labelled tested on holdout', async () => {
    const folds = 5;
    const predictions = new Map<string, Set<SafetyCategory>>();
    for (let k = 0; k < folds; k++) {
      const train = labelled.filter((_, i) => i % folds !== k);
      const model = trainLinearModel(train, { categories: trainCats });
      labelled.forEach((r, i) => {
        if (i % folds !== k) return;
        const s = scoreLinear(model, r.text);
        predictions.set(r.id, new Set(trainCats.filter((c) => (s[c] ?? 0) >= 0.5)));
      });
    }
    const cv = await evaluate(labelled, async (r) => predictions.get(r.id)!);
    const shipped = loadLinearModel();
    const onHoldout = await evaluate(holdout, async (r) => {
      const s = scoreLinear(shipped, r.text);
      return new Set(trainCats.filter((c) => (s[c] ?? 0) >= 0.5));
    });
    const withClf = createSafetyCascade({ classifier: createLinearClassifier(shipped), uncertainBand: [0, 0.85] });
    const cascadeClf = await evaluate(holdout, detected(withClf));
    console.log(table('classifier alone, 5-fold CV on labelled.jsonl (p >= 0.5)', cv, trainCats));
    console.log(table('classifier alone, trained on labelled, tested on holdout.jsonl', onHoldout, trainCats));
    console.log(table('rules + classifier consulted on every score < 0.85, holdout.jsonl', cascadeClf));
    // Sanity only: the model learned something (it stays off by default; see report).
    const macroRecall = trainCats.reduce((s, c) => s + cv[c].recall, 0) / trainCats.length;
    assert.ok(macroRecall > 0.3, `CV macro recall ${macroRecall}`);
  });
});
