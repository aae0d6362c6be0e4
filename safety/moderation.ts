// OpenAI-compatible moderation results (POST /v1/moderations, GraphQL `moderate`) from the input
// cascade. `flagged` is exactly the chat path's decision under the default policy: the input would
// be blocked. OpenAI's category names are filled from Parley's where one exists; the sub-categories
// Parley does not tell apart get their parent's decision (self-harm/intent and /instructions) or
// the overlap of two Parley categories (harassment/threatening = harassment ∧ a violence category).
import type { SafetyCategory } from '../schemas/safety.ts';
import { getDefaultCascade, type SafetyCascade } from './cascade.ts';
import type { SafetyCheckResult } from './cascade-result.ts';

export interface ModerationResult {
  readonly flagged: boolean;
  readonly categories: Record<string, boolean>;
  readonly category_scores: Record<string, number>;
  readonly category_applied_input_types: Record<string, string[]>;
}

type Entry = { score: number; blocked: boolean };
type Derive = (c: (k: SafetyCategory) => Entry) => Entry;

const any = (...cats: SafetyCategory[]): Derive => (c) => ({
  score: Math.max(...cats.map((k) => c(k).score)),
  blocked: cats.some((k) => c(k).blocked),
});
const both = (a: SafetyCategory, ...b: SafetyCategory[]): Derive => (c) => {
  const other = any(...b)(c);
  return { score: Math.min(c(a).score, other.score), blocked: c(a).blocked && other.blocked };
};

/** OpenAI's moderation categories, from Parley's. */
export const OPENAI_CATEGORIES: Readonly<Record<string, Derive>> = {
  harassment: any('harassment'),
  'harassment/threatening': both('harassment', 'dangerous', 'violent_extremism'),
  hate: any('hate'),
  'hate/threatening': both('hate', 'dangerous', 'violent_extremism'),
  illicit: any('dangerous', 'weapons', 'cyber', 'fraud_scams'),
  'illicit/violent': any('dangerous', 'weapons'),
  'self-harm': any('self_harm'),
  'self-harm/intent': any('self_harm'),
  'self-harm/instructions': any('self_harm'),
  sexual: any('sexual', 'sexual_minors'),
  'sexual/minors': any('sexual_minors'),
  violence: any('dangerous', 'violent_extremism'),
  'violence/graphic': any('dangerous'),
};

export function toModerationResult(r: SafetyCheckResult): ModerationResult {
  const byCat = new Map(r.categories.map((c) => [c.category, { score: c.score, blocked: c.blocked }]));
  const get = (k: SafetyCategory): Entry => byCat.get(k) ?? { score: 0, blocked: false };
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const applied: Record<string, string[]> = {};
  for (const [name, derive] of Object.entries(OPENAI_CATEGORIES)) {
    const e = derive(get);
    categories[name] = e.blocked;
    scores[name] = e.score;
    applied[name] = ['text'];
  }
  // Parley's own categories, under their own names (harassment, hate, sexual coincide).
  for (const c of r.categories) {
    categories[c.category] = c.blocked;
    scores[c.category] = c.score;
    applied[c.category] = ['text'];
  }
  return { flagged: r.verdict === 'blocked', categories, category_scores: scores, category_applied_input_types: applied };
}

/** Moderates texts with the default cascade and default policy, as the chat path would check them. */
export async function moderate(texts: readonly string[], cascade: SafetyCascade = getDefaultCascade()): Promise<ModerationResult[]> {
  return Promise.all(texts.map(async (t) => toModerationResult(await cascade.check(t))));
}
