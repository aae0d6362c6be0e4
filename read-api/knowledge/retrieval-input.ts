import { RetrievalSetting } from '../../schemas/knowledge.ts';
import { apiError } from '../errors.ts';

// sendMessage's `retrieval` (and the OpenAI endpoint's `parley_retrieval` extension): checked with the
// schema MessageSubmitted records it under, so a bad collection name or a topK out of range is the
// client's error (BAD_USER_INPUT / 400) naming the field, e.g. "input.retrieval.topK".
export type RetrievalProblem = { field: string; message: string };

export function checkRetrieval(value: unknown, field: string): { ok: true; setting: RetrievalSetting | null } | { ok: false; problem: RetrievalProblem } {
  if (value === null || value === undefined) return { ok: true, setting: null };
  // GraphQL passes an explicit `topK: null` as null: that is "the default", as leaving it out is.
  const given = value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) : value;
  const parsed = RetrievalSetting.safeParse(given);
  if (parsed.success) return { ok: true, setting: parsed.data };
  const issue = parsed.error.issues[0]!;
  const where = [field, ...issue.path.map(String)].join('.');
  return { ok: false, problem: { field: where, message: `${where}: ${issue.message}` } };
}

export function parseRetrieval(value: unknown, field: string): RetrievalSetting | null {
  const r = checkRetrieval(value, field);
  if (!r.ok) throw apiError('BAD_USER_INPUT', r.problem.message, { field: r.problem.field });
  return r.setting;
}
