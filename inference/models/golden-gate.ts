import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModel, SHIPPED_MODEL_DIR } from '../engine/model.ts';
import { Runner } from '../engine/runner.ts';
import { GoldenItem, scoreGolden, subset } from '../model/golden.ts';
import { GATE_FLOORS, GATE_PER_KIND, GATE_TARGET } from '../model/golden-gate.ts';

// The golden-set gate of `parley model promote`: greedy answers through the engine's Runner, exact
// match of the trimmed reply, as inference/model/eval-golden.ts scores it. This is the ONE function
// promotion calls, so a change of the golden set's format (per-skill files) is followed here.

export const DEFAULT_GOLDEN_SET = path.resolve(SHIPPED_MODEL_DIR, '../golden.jsonl');

// A golden prompt on one line, as the CLI prints a failing item (a tool-calling turn by its calls).
const promptLine = (messages: GoldenItem['messages']): string =>
  messages.map((m) => `${m.role}: ${m.content || JSON.stringify(m.tool_calls)}`).join(' | ');

export type GoldenFailure = { kind: string; prompt: string; expected: string; got: string };
export type GoldenScore = {
  /** the set's file name and content hash: which golden set the promotion passed */
  goldenSet: string;
  passed: number;
  /** items scored (fewer than the set when it stopped early) */
  scored: number;
  total: number;
  failures: GoldenFailure[];
  /** true when it stopped as soon as the threshold could no longer be reached */
  stoppedEarly: boolean;
};

export function readGoldenSet(file: string): { items: GoldenItem[]; id: string } {
  const text = readFileSync(file, 'utf8');
  const items = text.split('\n').filter((l) => l.trim()).map((l, i) => {
    const parsed = GoldenItem.safeParse(JSON.parse(l));
    if (!parsed.success) throw new Error(`${file}:${i + 1}: not a golden item (${parsed.error.issues[0]?.message})`);
    return parsed.data;
  });
  if (items.length === 0) throw new Error(`${file}: the golden set is empty`);
  return { items, id: `${path.basename(file)}@sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}` };
}

/** scores a model folder on a golden set; stops once `threshold` is out of reach (the verdict is known) */
export async function scoreGoldenSet(modelDir: string, options: { goldenFile?: string; threshold?: number; onItem?: (done: number, total: number) => void } = {}): Promise<GoldenScore> {
  const { items, id } = readGoldenSet(options.goldenFile ?? DEFAULT_GOLDEN_SET);
  const model = loadModel(modelDir);
  const runner = await Runner.create(model);
  const allowedMisses = options.threshold === undefined ? Infinity : Math.floor(items.length * (1 - options.threshold) + 1e-9);
  const failures: GoldenFailure[] = [];
  let passed = 0;
  let scored = 0;
  try {
    for (const item of items) {
      // rendered and scored as eval:golden does (inference/model/golden.ts): tools offered, 96 tokens
      const res = await runner.complete(model.applyChatTemplate(item.messages, { tools: item.tools }), { temperature: 0, maxTokens: 96 });
      scored++;
      if (res.text.trim() === item.answer) passed++;
      else failures.push({ kind: item.kind, prompt: promptLine(item.messages), expected: item.answer, got: res.text.trim() });
      options.onItem?.(scored, items.length);
      if (failures.length > allowedMisses) break;
    }
  } finally {
    await runner.session.release();
  }
  return { goldenSet: id, passed, scored, total: items.length, failures, stoppedEarly: scored < items.length };
}

export type SkillGate = { skill: string; ok: number; n: number; floor: number };
export type GateScore = { goldenSet: string; passed: number; total: number; skills: SkillGate[]; below: SkillGate[]; failures: GoldenFailure[] };

/** The per-skill gate, the same one CI runs on the shipped model (inference/model/golden-gate.ts): the
 *  first GATE_PER_KIND items of every kind, and every skill at or above its floor (GATE_TARGET unless
 *  a lower floor is listed). With the golden set v2 no model here reaches one share over all skills. */
export async function scoreGoldenGate(modelDir: string, options: { goldenFile?: string } = {}): Promise<GateScore> {
  const { items, id } = readGoldenSet(options.goldenFile ?? DEFAULT_GOLDEN_SET);
  const model = loadModel(modelDir);
  const runner = await Runner.create(model);
  try {
    const r = await scoreGolden(model, runner, subset(items, GATE_PER_KIND));
    const skills = r.skills.map((s) => ({ ...s, floor: GATE_FLOORS[s.skill] ?? GATE_TARGET }));
    const failures = r.failures.map((f) => ({ kind: f.kind, prompt: promptLine(f.messages), expected: f.expected, got: f.got.trim() }));
    return { goldenSet: id, passed: r.ok, total: r.total, skills, below: skills.filter((s) => s.ok / s.n < s.floor), failures };
  } finally {
    await runner.session.release();
  }
}
