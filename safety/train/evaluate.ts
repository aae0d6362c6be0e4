// Measures the model on the held-out split, run exactly as the server runs it: the ONNX file in
// a worker through onnxruntime-node, alone and as the main stage of the cascade (rules + model).
// "Blocked" is the default policy's verdict (PLATFORM_DEFAULTS), as the chat path would decide.
import { performance } from 'node:perf_hooks';
import type { SafetyCategory } from '../../schemas/safety.ts';
import { createSafetyCascade } from '../cascade.ts';
import { createModerationModel } from '../model.ts';
import { PLATFORM_DEFAULTS, blocks } from '../policy.ts';
import { severityOf } from '../scoring.ts';
import { LANGS } from './lexicon.ts';
import { MODEL_CATEGORIES, OBFUSCATIONS, PUBLIC_FILES, ROUND2_SOURCES, isPublic, type PublicSource, type Row } from './generate.ts';
import { everydayPrompts, testPrompts } from './everyday.ts';

type Cascade = ReturnType<typeof createSafetyCascade>;

/** A measurement waits for every model verdict: the server's 2 s limit would turn a busy machine's
 *  slow calls into "rules only" verdicts and move the numbers with the load (seen in round 7). */
export const MEASURE_TIMEOUT_MS = 120_000;

/**
 * False positives outside the look-alike set: the two everyday sets (six languages) and every prompt
 * the e2e/integration tests send (see everyday.ts). Both are measured only, never trained on.
 */
export async function everydayReport(cascade: Cascade, rulesOnly: Cascade, model: ReturnType<typeof createModerationModel>): Promise<string[]> {
  const out: string[] = [];
  const blockedBy = async (texts: readonly string[]) => {
    const modelScores = await model.classifyMany([...texts]);
    const res: { text: string; rules: boolean; model: boolean; cascade: string[] }[] = [];
    for (let i = 0; i < texts.length; i++) {
      const m = MODEL_CATEGORIES.some((c) => blocks(severityOf(modelScores[i][c] ?? 0), PLATFORM_DEFAULTS[c]));
      res.push({ text: texts[i], rules: (await rulesOnly.check(texts[i])).verdict === 'blocked', model: m, cascade: [...(await cascade.check(texts[i])).blockedCategories] });
    }
    return res;
  };
  const count = (xs: Awaited<ReturnType<typeof blockedBy>>, k: 'rules' | 'model' | 'cascade') => xs.filter((x) => (k === 'cascade' ? x.cascade.length > 0 : x[k])).length;
  for (const set of [1, 2] as const) {
    const everyday = everydayPrompts(set);
    const ev = await blockedBy(everyday.map((r) => r.text));
    out.push(...(set === 2 ? [''] : []), `| everyday prompts (set ${set}) blocked (false positives), by language | rules only | model alone | cascade |`, '|---|---|---|---|');
    for (const lang of LANGS) {
      const xs = ev.filter((_, i) => everyday[i].lang === lang);
      if (xs.length) out.push(`| ${lang} | ${pct(count(xs, 'rules'), xs.length)} | ${pct(count(xs, 'model'), xs.length)} | ${pct(count(xs, 'cascade'), xs.length)} |`);
    }
    out.push(`| all | ${pct(count(ev, 'rules'), ev.length)} | ${pct(count(ev, 'model'), ev.length)} | ${pct(count(ev, 'cascade'), ev.length)} |`);
    const evBlocked = ev.filter((x) => x.cascade.length);
    if (evBlocked.length) out.push('', `Everyday prompts (set ${set}) the cascade blocked:`, ...evBlocked.map((x) => `- ${x.cascade.join(',')}: ${x.text}`));
  }
  const tp = await blockedBy(testPrompts());
  const tpBlocked = tp.filter((x) => x.cascade.length);
  out.push('', `Prompts sent by the e2e/integration tests (${tp.length}) the cascade blocks: ${tpBlocked.length}${tpBlocked.length ? ':' : '.'}`, ...tpBlocked.map((x) => `- ${x.cascade.join(',')}${x.model ? ' (model)' : ''}${x.rules ? ' (rules)' : ''}: ${x.text}`));
  return out;
}

const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}% (${a}/${b})` : 'n/a');

export async function evaluateModel(test: readonly Row[], all: readonly Row[], split: (g: string) => string, cardFile: string): Promise<string> {
  const model = createModerationModel(cardFile);
  const cascade = createSafetyCascade({ model, modelTimeoutMs: MEASURE_TIMEOUT_MS });
  const rulesOnly = createSafetyCascade();
  const modelBlocked: Set<SafetyCategory>[] = [];
  const cascadeBlocked: Set<SafetyCategory>[] = [];
  const rulesBlocked: boolean[] = [];
  for (let i = 0; i < test.length; i += 32) {
    const batch = test.slice(i, i + 32);
    const scores = await model.classifyMany(batch.map((r) => r.text));
    for (const s of scores) modelBlocked.push(new Set(MODEL_CATEGORIES.filter((c) => blocks(severityOf(s[c] ?? 0), PLATFORM_DEFAULTS[c]))));
  }
  for (const r of test) {
    cascadeBlocked.push(new Set((await cascade.check(r.text)).blockedCategories));
    rulesBlocked.push((await rulesOnly.check(r.text)).verdict === 'blocked');
  }
  const out: string[] = [];
  out.push(`Held-out split: ${test.length} rows (${test.filter((r) => r.kind === 'harmful').length} harmful, ${test.filter((r) => r.kind === 'benign').length} benign); whole intents and public rows are held out, in every language and obfuscation.`);
  out.push('', '| category | test positives | model precision | model recall | cascade recall (any block) |', '|---|---|---|---|---|');
  for (const c of MODEL_CATEGORIES) {
    let tp = 0, fp = 0, fn = 0, cas = 0, pos = 0;
    test.forEach((r, i) => {
      const y = r.labels.includes(c);
      const p = modelBlocked[i].has(c);
      if (y) pos++;
      if (y && p) tp++;
      if (!y && p) fp++;
      if (y && !p) fn++;
      if (y && cascadeBlocked[i].size) cas++;
    });
    out.push(`| ${c} | ${pos} | ${tp + fp ? (tp / (tp + fp)).toFixed(2) : 'n/a'} | ${pos ? (tp / pos).toFixed(2) : 'n/a'} | ${pos ? (cas / pos).toFixed(2) : 'n/a'} |`);
  }
  const harmful = test.map((r, i) => [r, i] as const).filter(([r]) => r.kind === 'harmful');
  // Benign requests wrapped in the jailbreak frame are left out: the rules block those as prompt
  // injection, rightly.
  const benign = test.map((r, i) => [r, i] as const).filter(([r]) => r.kind === 'benign' && !/no rules/i.test(r.text) && !isPublic(r));
  // Benign rows of public sets (XSafety's health, feelings, ethics and quiz files): reported on their own.
  const publicBenign = test.map((r, i) => [r, i] as const).filter(([r]) => r.kind === 'benign' && isPublic(r));
  const rate = (rs: (readonly [Row, number])[], which: 'model' | 'cascade' | 'rules'): string =>
    pct(rs.filter(([, i]) => (which === 'model' ? modelBlocked[i].size > 0 : which === 'cascade' ? cascadeBlocked[i].size > 0 : rulesBlocked[i])).length, rs.length);
  // One table: the rows blocked per language by the rules alone, the model alone and the cascade.
  const byLanguage = (rows: (readonly [Row, number])[], title: string, cascadeHead: string, allLabel: string, langs: readonly string[]) => {
    const line = (label: string, rs: (readonly [Row, number])[]) => `| ${label} | ${rate(rs, 'rules')} | ${rate(rs, 'model')} | ${rate(rs, 'cascade')} |`;
    out.push('', `| ${title} | rules only | model alone | ${cascadeHead} |`, '|---|---|---|---|');
    for (const lang of langs) {
      const rs = rows.filter(([r]) => r.lang === lang);
      if (rs.length) out.push(line(lang, rs));
    }
    out.push(line(allLabel, rows));
  };
  byLanguage(harmful, 'harmful requests blocked, by language', 'cascade (rules + model)', 'all', [...LANGS, 'mixed']);
  // The issue's target is about public red-team requests (written by people outside this repo), not
  // our generated ones: the same table on the held-out public rows alone.
  const publicHarmful = harmful.filter(([r]) => isPublic(r));
  byLanguage(publicHarmful, 'held-out public red-team requests blocked, by language', 'cascade', 'all public', LANGS);
  // The same rows as before the round-3 sets were added (same groups held out): comparable across rounds.
  const round2 = publicHarmful.filter(([r]) => ROUND2_SOURCES.includes(r.source as PublicSource));
  if (round2.length < publicHarmful.length) {
    byLanguage(round2, 'held-out public requests of the round-2 sets only (comparable with earlier runs)', 'cascade', 'all round-2 public', LANGS);
  }
  // The first model's held-out split (the intents of lexicon.ts): the same rows, comparable across trainings.
  const firstHarmful = harmful.filter(([r]) => !r.added);
  const firstBenign = benign.filter(([r]) => !r.added);
  if (firstHarmful.length < harmful.length) {
    out.push('', '| on the first model\'s held-out intents only (comparable) | rules only | model alone | cascade |', '|---|---|---|---|');
    for (const lang of [...LANGS, 'mixed'] as const) {
      const rs = firstHarmful.filter(([r]) => r.lang === lang);
      if (rs.length) out.push(`| ${lang} | ${rate(rs, 'rules')} | ${rate(rs, 'model')} | ${rate(rs, 'cascade')} |`);
    }
    out.push(`| all harmful | ${rate(firstHarmful, 'rules')} | ${rate(firstHarmful, 'model')} | ${rate(firstHarmful, 'cascade')} |`);
    out.push(`| benign look-alikes blocked | ${rate(firstBenign, 'rules')} | ${rate(firstBenign, 'model')} | ${rate(firstBenign, 'cascade')} |`);
  }
  out.push('', '| harmful requests blocked, by obfuscation | rules only | cascade |', '|---|---|---|');
  for (const o of OBFUSCATIONS) {
    const rs = harmful.filter(([r]) => r.obfuscation === o);
    if (rs.length) out.push(`| ${o} | ${rate(rs, 'rules')} | ${rate(rs, 'cascade')} |`);
  }
  out.push('', '| harmful requests blocked, by source | rules only | cascade |', '|---|---|---|');
  for (const src of ['generated', 'written', ...Object.keys(PUBLIC_FILES), 'fixtures']) {
    const rs = harmful.filter(([r]) => r.source === src);
    if (rs.length) out.push(`| ${src} | ${rate(rs, 'rules')} | ${rate(rs, 'cascade')} |`);
  }
  out.push('', `Benign look-alikes blocked (false positives): rules only ${rate(benign, 'rules')}, model alone ${rate(benign, 'model')}, cascade ${rate(benign, 'cascade')}.`);
  if (publicBenign.length) {
    out.push('', `Benign rows of the public sets blocked (XSafety health, feelings, ethics, quizzes; OpenAI moderation set's unflagged texts; held out): rules only ${rate(publicBenign, 'rules')}, model alone ${rate(publicBenign, 'model')}, cascade ${rate(publicBenign, 'cascade')}.`);
    const bySource = [...new Set(publicBenign.map(([r]) => r.source))];
    if (bySource.length > 1) out.push('', `By set (cascade): ${bySource.map((s) => `${s} ${rate(publicBenign.filter(([r]) => r.source === s), 'cascade')}`).join(', ')}.`);
  }
  out.push('', ...(await everydayReport(cascade, rulesOnly, model)));
  const fpExamples = benign.filter(([, i]) => cascadeBlocked[i].size).slice(0, 8).map(([r, i]) => `- ${[...cascadeBlocked[i]].join(',')}: ${r.text}`);
  if (fpExamples.length) out.push('', 'Benign test rows the cascade blocked (first 8):', ...fpExamples);
  const counts = new Map<string, number>();
  for (const r of all) for (const k of [`${r.labels[0] ?? 'benign'}|${r.lang}`]) counts.set(k, (counts.get(k) ?? 0) + 1);
  out.push('', '| rows per category × language (all splits) | ' + [...LANGS, 'mixed'].join(' | ') + ' |', '|---|' + [...LANGS, 'mixed'].map(() => '---').join('|') + '|');
  for (const c of [...MODEL_CATEGORIES, 'benign']) out.push(`| ${c} | ` + [...LANGS, 'mixed'].map((l) => counts.get(`${c}|${l}`) ?? 0).join(' | ') + ' |');
  const splitCounts = { train: 0, val: 0, test: 0 } as Record<string, number>;
  for (const r of all) splitCounts[split(r.group)]++;
  out.push('', `Splits: ${splitCounts.train} train, ${splitCounts.val} calibration, ${splitCounts.test} test.`);
  // Latency, as the server sees it: one 1 KB input, and a batch of 32.
  const kb = test.map((r) => r.text).join(' ').slice(0, 1024);
  const one: number[] = [];
  for (let k = 0; k < 200; k++) { const t = performance.now(); await model.classify(kb); one.push(performance.now() - t); }
  const b32: number[] = [];
  const texts = test.slice(0, 32).map((r) => r.text);
  for (let k = 0; k < 50; k++) { const t = performance.now(); await model.classifyMany(texts); b32.push(performance.now() - t); }
  const q = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(2);
  out.push('', `Model latency (worker round trip, this machine, under nice): 1 KB input p50 ${q(one, 0.5)} ms, p95 ${q(one, 0.95)} ms; batch of 32 prompts p50 ${q(b32, 0.5)} ms, p95 ${q(b32, 0.95)} ms.`);
  await model.close();
  return out.join('\n') + '\n';
}
