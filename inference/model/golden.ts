// The golden set (golden.jsonl, written by train.py): loading, the skill each item tests, and
// scoring through the engine's Runner (greedy, exact match of the whole reply). Used by
// `npm run eval:golden` and by the CI gate (tests/integration/model-golden-gate.test.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { LoadedModel } from '../engine/model.ts';
import type { Runner } from '../engine/runner.ts';
import { toolCallConstraintOf } from '../tools/index.ts';

export const GOLDEN_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden.jsonl');

const Message = z
  .object({
    role: z.string(),
    content: z.string(),
    tool_calls: z
      .array(z.object({ type: z.literal('function').optional(), function: z.object({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]) }) }))
      .optional(),
  })
  .loose();
export const GoldenItem = z.object({
  kind: z.string(),
  messages: z.array(Message).min(1),
  tools: z.array(z.record(z.string(), z.unknown())).optional(),
  answer: z.string(),
});
export type GoldenItem = z.infer<typeof GoldenItem>;

/** The skill an item's kind belongs to (the rows of the per-skill table). */
const SKILL_OF_KIND: Record<string, string> = {
  capital: 'capitals',
  'follow-capital': 'capitals',
  arith: 'arithmetic (no tools)',
  'follow-arith': 'arithmetic (no tools)',
  unit: 'unit conversions (no tools)',
  greet: 'greeting / who are you',
  who: 'greeting / who are you',
  harm: 'refusals',
  'follow-repeat': 'repeat',
  'tool-calculator': 'tool call: calculator',
  'tool-calculator-answer': 'answer from tool result',
  'tool-units': 'tool call: unit conversion',
  'tool-units-answer': 'answer from tool result',
  'tool-time': 'tool call: date/time',
  'tool-time-answer': 'answer from tool result',
  'tool-search': 'tool call: search',
  'tool-search-answer': 'answer from tool result',
  'tool-generic': 'tool call: unseen tools',
  'tool-generic-answer': 'answer from tool result',
  summary: 'summaries',
  grounded: 'grounded answers',
  'grounded-absent': 'grounded: not in sources',
  ood: 'out of domain',
};
export const skillOf = (kind: string): string => SKILL_OF_KIND[kind] ?? kind;

export function loadGolden(file = GOLDEN_FILE): GoldenItem[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const r = GoldenItem.safeParse(JSON.parse(l));
      if (!r.success) throw new Error(`${file}:${i + 1}: ${r.error.message}`);
      return r.data;
    });
}

/** The first `perKind` items of every kind (the fast subset the CI gate runs). */
export function subset(items: readonly GoldenItem[], perKind: number): GoldenItem[] {
  const seen = new Map<string, number>();
  return items.filter((it) => {
    const n = seen.get(it.kind) ?? 0;
    seen.set(it.kind, n + 1);
    return n < perKind;
  });
}

export interface SkillScore {
  skill: string;
  ok: number;
  n: number;
}
export interface GoldenResult {
  ok: number;
  total: number;
  skills: SkillScore[];
  failures: { kind: string; messages: GoldenItem['messages']; expected: string; got: string }[];
  tokens: number;
}

export async function scoreGolden(
  model: LoadedModel,
  runner: Runner,
  items: readonly GoldenItem[],
  onItem?: (good: boolean) => void,
  opts: { constrained?: boolean; /** sampled (seed = the item's index) instead of greedy */ temperature?: number } = {},
): Promise<GoldenResult> {
  const bySkill = new Map<string, SkillScore>();
  const failures: GoldenResult['failures'] = [];
  let ok = 0;
  let tokens = 0;
  for (const [index, item] of items.entries()) {
    const ids = model.applyChatTemplate(item.messages, { tools: item.tools });
    // constrained: an item that offers tools generates under their call constraint, as the saga runs
    // a turn by default (inference/tools/constraint.ts); the CI gate measures the model without it
    const fns = (item.tools ?? []).map((t) => t.function as { name: string; parameters?: Record<string, unknown> });
    const constraint = opts.constrained && fns.length ? toolCallConstraintOf(fns.map((f) => ({ name: f.name, parameters: f.parameters ?? {} }))) : null;
    const res = await runner.complete(ids, { temperature: opts.temperature ?? 0, seed: index, maxTokens: 96, ...(constraint ? { constraint } : {}) });
    tokens += res.completionTokens;
    const good = res.text.trim() === item.answer;
    const skill = skillOf(item.kind);
    const s = bySkill.get(skill) ?? { skill, ok: 0, n: 0 };
    s.n++;
    if (good) {
      ok++;
      s.ok++;
    } else failures.push({ kind: item.kind, messages: item.messages, expected: item.answer, got: res.text });
    bySkill.set(skill, s);
    onItem?.(good);
  }
  const order = [...new Set(Object.values(SKILL_OF_KIND))];
  const skills = [...bySkill.values()].sort((a, b) => order.indexOf(a.skill) - order.indexOf(b.skill));
  return { ok, total: items.length, skills, failures, tokens };
}

/** The per-skill table as Markdown (what eval:golden prints and the model card holds). */
export function skillTable(r: GoldenResult): string {
  const rows = r.skills.map((s) => `| ${s.skill} | ${s.ok}/${s.n} | ${((100 * s.ok) / s.n).toFixed(1)}% |`);
  const total = `| **all** | **${r.ok}/${r.total}** | **${((100 * r.ok) / Math.max(1, r.total)).toFixed(1)}%** |`;
  return ['| skill | score | % |', '|---|---:|---:|', ...rows, total].join('\n');
}
