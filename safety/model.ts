// The learned moderation model, the cascade's main stage: a hashed n-gram bag (safety/features.ts)
// exported to ONNX by safety/train/ and run with onnxruntime-node in a worker thread, because
// session.run blocks the thread it runs on. Multi-label: one calibrated probability per category.
// The worker is started on first use and holds the process open only while a request is pending.
// `classify` returns scores on the cascade's severity scale (toSeverityScale), not raw probabilities.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { SafetyCategory } from '../schemas/safety.ts';
import type { ClassifierScores, SafetyClassifier } from './classifier.ts';
import { BUCKETS, MAX_BYTES, MAX_FEATURES, byteIds, featureIds } from './features.ts';

/** The model's sidecar: what the ONNX file's outputs mean and how it was made. */
export const ModerationModelCard = z.object({
  format: z.literal('parley-moderation-v1'),
  id: z.string(),
  onnx: z.string(),
  categories: z.array(SafetyCategory).min(1),
  buckets: z.literal(BUCKETS),
  maxFeatures: z.literal(MAX_FEATURES),
  /**
   * The ONNX inputs, when not just `ids` (the hashed n-grams): the round-4 char-CNN experiment
   * (train.py --arch cnn / cnn+bag; not shipped) also or only takes `bytes`, the normalized text's
   * UTF-8 bytes + 1 (features.ts byteIds), at most maxBytes.
   */
  inputs: z.array(z.enum(['ids', 'bytes'])).min(1).optional(),
  maxBytes: z.literal(MAX_BYTES).optional(),
  /** Per category, the calibrated probability at which a finding counts (set on validation look-alikes). */
  thresholds: z.partialRecord(SafetyCategory, z.number().gt(0).lt(1)),
  trainedOn: z.string(),
});
export type ModerationModelCard = z.infer<typeof ModerationModelCard>;

export interface ModerationModel extends SafetyClassifier {
  readonly card: ModerationModelCard;
  /** Scores several texts in one model call (the moderations endpoint's batches). */
  classifyMany(texts: readonly string[], signal?: AbortSignal): Promise<ClassifierScores[]>;
  /** Starts the worker and loads the model; classify's time limits start after this. */
  warm(): Promise<void>;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MODEL_CARD = path.join(here, 'models', 'moderation-v1.json');

export function loadModelCard(file: string = DEFAULT_MODEL_CARD): ModerationModelCard {
  return ModerationModelCard.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * Maps a calibrated probability onto the cascade's score scale. Below the category's threshold the
 * model alone never reaches LOW (0.3): weak signals are the rules' to judge. At the threshold it
 * is MEDIUM (0.6, blocking under the default policy), and 1 stays 1 (HIGH from 0.85).
 */
export function toSeverityScale(p: number, threshold: number): number {
  if (!Number.isFinite(p)) return 0;
  if (p < threshold) return (0.29 * p) / threshold;
  return Math.min(1, 0.6 + (0.4 * (p - threshold)) / (1 - threshold));
}

interface Pending {
  resolve(scores: Float32Array): void;
  reject(e: Error): void;
}

/** Starts (lazily) a worker for the model described by `cardFile`. */
export function createModerationModel(cardFile: string = DEFAULT_MODEL_CARD): ModerationModel {
  const card = loadModelCard(cardFile);
  const modelPath = path.join(path.dirname(cardFile), card.onnx);
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  const pending = new Map<number, Pending>();
  let nextId = 1;

  function fail(e: Error): void {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    worker = undefined;
    ready = undefined;
  }

  function start(): Promise<void> {
    if (ready) return ready;
    const w = new Worker(new URL('./model-worker.mjs', import.meta.url), { workerData: { modelPath } });
    worker = w;
    ready = new Promise<void>((resolve, reject) => {
      w.once('message', (m: { ready: boolean; error?: string }) => {
        if (m.ready) resolve();
        else reject(new Error(`moderation model failed to load: ${m.error}`));
        w.on('message', (r: { id: number; scores?: Float32Array; error?: string }) => {
          const p = pending.get(r.id);
          if (!p) return;
          pending.delete(r.id);
          if (pending.size === 0) w.unref();
          if (r.scores) p.resolve(r.scores);
          else p.reject(new Error(r.error ?? 'moderation model error'));
        });
      });
      w.once('error', (e) => {
        reject(e);
        fail(e);
      });
      w.once('exit', (code) => fail(new Error(`moderation model worker exited (${code})`)));
    });
    // Loading holds the process open (a caller awaits it); idle, the worker does not.
    ready.then(() => { if (pending.size === 0) w.unref(); }, () => undefined);
    return ready;
  }

  async function run(texts: readonly string[], signal?: AbortSignal): Promise<ClassifierScores[]> {
    signal?.throwIfAborted();
    const features = texts.map((t) => featureIds(t));
    const width = Math.max(1, ...features.map((f) => f.length));
    const ids = new Int32Array(texts.length * width);
    features.forEach((f, i) => ids.set(f, i * width));
    // Only a char-CNN card (round-4 experiment) asks for byte ids too.
    const bs = card.inputs?.includes('bytes') ? texts.map((t) => byteIds(t)) : undefined;
    const bytesWidth = bs ? Math.max(1, ...bs.map((b) => b.length)) : 0;
    const bytes = bs ? new Int32Array(texts.length * bytesWidth) : undefined;
    bs?.forEach((b, i) => bytes!.set(b, i * bytesWidth));
    await start();
    const w = worker!;
    const id = nextId++;
    const scores = await new Promise<Float32Array>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.ref();
      if (bytes) w.postMessage({ id, ids, batch: texts.length, width, bytes, bytesWidth }, [ids.buffer, bytes.buffer]);
      else w.postMessage({ id, ids, batch: texts.length, width }, [ids.buffer]);
      signal?.addEventListener('abort', () => {
        if (pending.delete(id)) {
          if (pending.size === 0) w.unref();
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        }
      }, { once: true });
    });
    const n = card.categories.length;
    return texts.map((_, i) => {
      const out: ClassifierScores = {};
      card.categories.forEach((c, j) => (out[c] = toSeverityScale(scores[i * n + j], card.thresholds[c] ?? 0.5)));
      return out;
    });
  }

  return {
    id: card.id,
    categories: card.categories,
    card,
    async classify(text, signal) {
      return (await run([text], signal))[0];
    },
    classifyMany: (texts, signal) => (texts.length ? run(texts, signal) : Promise.resolve([])),
    warm: start,
    async close() {
      const w = worker;
      fail(new Error('moderation model closed'));
      if (w) await w.terminate();
    },
  };
}

let shared: ModerationModel | undefined;
/** The shipped model, one worker per process. */
export function getDefaultModel(): ModerationModel {
  return (shared ??= createModerationModel());
}
