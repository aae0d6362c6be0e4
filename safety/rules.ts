// Stage 2 of the cascade: per-category terms and patterns, kept as data in safety/rules/*.json,
// compiled once into one phrase automaton (all categories, all terms and allow phrases) plus a few
// regular expressions per category, and matched against every normalized variant of the text.
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SafetyCategory, Severity } from '../schemas/safety.ts';
import { PhraseMatcher } from './matcher.ts';
import { normalizeTerm, type NormalizedText } from './normalize.ts';
import { SEVERITY_SCORE } from './scoring.ts';

const Graded = z
  .object({
    LOW: z.array(z.string().min(1)).default([]),
    MEDIUM: z.array(z.string().min(1)).default([]),
    HIGH: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** The shape of one safety/rules/<category>.json file. */
export const RuleFile = z
  .object({
    category: SafetyCategory,
    description: z.string(),
    /** Phrases matched on word boundaries after normalization; a trailing `*` matches a prefix. */
    terms: Graded.default({ LOW: [], MEDIUM: [], HIGH: [] }),
    /** Regular expressions (source text) run on normalized text: lowercase words, single spaces. */
    patterns: Graded.default({ LOW: [], MEDIUM: [], HIGH: [] }),
    /** Benign phrases: a hit of this category overlapping one of them is dropped. */
    allow: z.array(z.string().min(1)).default([]),
    /** Benign regular expressions, same effect as `allow`. */
    allowPatterns: z.array(z.string().min(1)).default([]),
    /**
     * Frames (fiction, role-play): like allow patterns, but a frame never removes a hit by itself.
     * It is ignored when the same text also asks for working instructions (`frameBreakers`):
     * "a story that mentions a bomb" is allowed, "for a story, write a tutorial on making a bomb"
     * is not.
     */
    framePatterns: z.array(z.string().min(1)).default([]),
    frameBreakers: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type RuleFile = z.infer<typeof RuleFile>;

export interface RuleHit {
  readonly category: SafetyCategory;
  /** Stable id for audit: `<category>/<term|pattern>/<n>`; never the matched text. */
  readonly ruleId: string;
  readonly severity: Exclude<Severity, 'NEGLIGIBLE'>;
  readonly start: number;
  readonly end: number;
}

export interface CategoryRuleResult {
  readonly score: number;
  readonly hits: readonly RuleHit[];
}

export type RuleResults = Partial<Record<SafetyCategory, CategoryRuleResult>>;

interface TermPayload {
  kind: 'term' | 'allow';
  category: SafetyCategory;
  ruleId: string;
  severity: Exclude<Severity, 'NEGLIGIBLE'>;
}

interface CompiledPattern {
  ruleId: string;
  severity: Exclude<Severity, 'NEGLIGIBLE'>;
  re: RegExp;
}

interface CompiledCategory {
  category: SafetyCategory;
  /** All patterns of the category as one alternation: a cheap "could anything match?" test. */
  any?: RegExp;
  patterns: CompiledPattern[];
  allowAny?: RegExp;
  allowPatterns: RegExp[];
  frames: RegExp[];
  frameBreaker?: RegExp;
}

export interface RuleSet {
  readonly categories: readonly SafetyCategory[];
  /** sha256 (first 12 hex) of the rule files' content, part of the policy version. */
  readonly hash: string;
  readonly termCount: number;
  readonly patternCount: number;
  /** Matches every variant of a normalized text (or plain normalized strings). */
  match(input: NormalizedText | readonly string[]): RuleResults;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_RULES_DIR = path.join(here, 'rules');

/** Reads and validates every `*.json` file in a rules directory (sorted by name). */
export function loadRuleFiles(dir: string = DEFAULT_RULES_DIR): { files: RuleFile[]; hash: string } {
  const names = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const hash = createHash('sha256');
  const files: RuleFile[] = [];
  for (const name of names) {
    const raw = readFileSync(path.join(dir, name), 'utf8');
    hash.update(name).update('\0').update(raw).update('\0');
    const parsed = RuleFile.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new Error(`invalid rule file ${name}: ${parsed.error.message}`);
    files.push(parsed.data);
  }
  return { files, hash: hash.digest('hex').slice(0, 12) };
}

const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH'] as const;

/**
 * Compiles a rule pattern. Wildcards `.` are rewritten to `[^|]` so that no pattern spans a
 * sentence break (normalized text marks sentence ends with the word `|`).
 */
function compileRegex(source: string, where: string): RegExp {
  try {
    return new RegExp(source.replace(/(?<!\\)\.(?=[{*+?])/g, '[^|]'), 'g');
  } catch (e) {
    throw new Error(`invalid pattern in ${where}: ${(e as Error).message}`);
  }
}

export function compileRules(files: readonly RuleFile[], hash = 'custom'): RuleSet {
  const phrases: { phrase: string; payload: TermPayload }[] = [];
  const compiled: CompiledCategory[] = [];
  let termCount = 0;
  let patternCount = 0;
  for (const f of files) {
    const cat: CompiledCategory = { category: f.category, patterns: [], allowPatterns: [], frames: [] };
    for (const sev of SEVERITIES) {
      f.terms[sev].forEach((t, i) => {
        const prefix = t.endsWith('*');
        const norm = normalizeTerm(prefix ? t.slice(0, -1) : t);
        if (!norm) throw new Error(`term normalizes to nothing in ${f.category}: ${JSON.stringify(t)}`);
        phrases.push({
          phrase: prefix ? `${norm}*` : norm,
          payload: { kind: 'term', category: f.category, ruleId: `${f.category}/term/${sev}/${i}`, severity: sev },
        });
        termCount++;
      });
      f.patterns[sev].forEach((p, i) => {
        const ruleId = `${f.category}/pattern/${sev}/${i}`;
        cat.patterns.push({ ruleId, severity: sev, re: compileRegex(p, ruleId) });
        patternCount++;
      });
    }
    f.allow.forEach((a, i) => {
      phrases.push({
        phrase: normalizeTerm(a),
        payload: { kind: 'allow', category: f.category, ruleId: `${f.category}/allow/${i}`, severity: 'LOW' },
      });
    });
    cat.allowPatterns = f.allowPatterns.map((p, i) => compileRegex(p, `${f.category}/allowPattern/${i}`));
    cat.frames = f.framePatterns.map((p, i) => compileRegex(p, `${f.category}/framePattern/${i}`));
    if (f.frameBreakers.length) {
      cat.frameBreaker = new RegExp(f.frameBreakers.map((p, i) => `(?:${compileRegex(p, `${f.category}/frameBreaker/${i}`).source})`).join('|'));
    }
    if (cat.patterns.length) cat.any = new RegExp(cat.patterns.map((p) => `(?:${p.re.source})`).join('|'));
    if (cat.allowPatterns.length) cat.allowAny = new RegExp(cat.allowPatterns.map((p) => `(?:${p.source})`).join('|'));
    compiled.push(cat);
  }
  const matcher = new PhraseMatcher(phrases);
  const byCategory = new Map(compiled.map((c) => [c.category, c]));
  const categories = [...new Set(files.map((f) => f.category))];

  function matchVariant(text: string, focus: readonly [number, number] | null, into: Map<string, RuleHit>): void {
    const inFocus = (start: number, end: number): boolean => focus === null || (start < focus[1] && focus[0] < end);
    // One automaton pass collects term hits and allow spans of every category.
    const termHits: { p: TermPayload; start: number; end: number }[] = [];
    const allowSpans = new Map<SafetyCategory, [number, number][]>();
    matcher.scan(text, (h) => {
      if (h.payload.kind === 'allow') {
        let spans = allowSpans.get(h.payload.category);
        if (!spans) allowSpans.set(h.payload.category, (spans = []));
        spans.push([h.start, h.end]);
      } else termHits.push({ p: h.payload, start: h.start, end: h.end });
    });
    // Allow patterns are computed only for a category that has a candidate hit: most text has
    // none, and broad allow patterns are the most expensive regexes of the rule set.
    const patternsDone = new Set<SafetyCategory>();
    const addAllowPatterns = (cat: CompiledCategory): void => {
      if (patternsDone.has(cat.category)) return;
      patternsDone.add(cat.category);
      // A frame counts only when the text does not also ask for working instructions.
      const frames = cat.frames.length && !(cat.frameBreaker?.test(text) ?? false) ? cat.frames : [];
      const active = [...(cat.allowAny?.test(text) ? cat.allowPatterns : []), ...frames];
      if (active.length === 0) return;
      let spans = allowSpans.get(cat.category);
      if (!spans) allowSpans.set(cat.category, (spans = []));
      for (const re of active) {
        re.lastIndex = 0;
        for (let m = re.exec(text); m !== null; m = re.exec(text)) {
          spans.push([m.index, m.index + m[0].length]);
          if (m[0].length === 0) re.lastIndex++;
        }
      }
    };
    const allowed = (cat: CompiledCategory, start: number, end: number): boolean => {
      addAllowPatterns(cat);
      const spans = allowSpans.get(cat.category);
      if (!spans) return false;
      for (const [s, e] of spans) if (start < e && s < end) return true;
      return false;
    };
    for (const h of termHits) {
      if (into.has(h.p.ruleId) || !inFocus(h.start, h.end) || allowed(byCategory.get(h.p.category)!, h.start, h.end)) continue;
      into.set(h.p.ruleId, { category: h.p.category, ruleId: h.p.ruleId, severity: h.p.severity, start: h.start, end: h.end });
    }
    for (const cat of compiled) {
      if (!cat.any || !cat.any.test(text)) continue;
      for (const p of cat.patterns) {
        if (into.has(p.ruleId)) continue;
        p.re.lastIndex = 0;
        for (let m = p.re.exec(text); m !== null; m = p.re.exec(text)) {
          const start = m.index;
          const end = m.index + m[0].length;
          if (inFocus(start, end) && !allowed(cat, start, end)) {
            into.set(p.ruleId, { category: cat.category, ruleId: p.ruleId, severity: p.severity, start, end });
            break;
          }
          // Suppressed by an allow phrase (or outside a snippet's focus): look again from the next
          // position, so a benign phrase early in the text cannot hide a harmful one later.
          p.re.lastIndex = m.index + 1;
        }
      }
    }
  }

  return {
    categories,
    hash,
    termCount,
    patternCount,
    match(input) {
      const hits = new Map<string, RuleHit>();
      const variants = 'variants' in input ? input.variants : input;
      const focus = 'variants' in input ? input.focus : undefined;
      variants.forEach((v, i) => matchVariant(v, focus?.[i] ?? null, hits));
      const byCategory: RuleResults = {};
      for (const h of hits.values()) {
        const prev = byCategory[h.category];
        byCategory[h.category] = { score: 0, hits: prev ? [...prev.hits, h] : [h] };
      }
      for (const c of Object.keys(byCategory) as SafetyCategory[]) {
        const r = byCategory[c]!;
        byCategory[c] = { score: combineScores(r.hits.map((h) => SEVERITY_SCORE[h.severity])), hits: r.hits };
      }
      return byCategory;
    },
  };
}

/** The strongest hit decides; each further distinct hit adds a little evidence (at most +0.1). */
export function combineScores(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  const max = Math.max(...scores);
  return Math.min(1, max + Math.min(0.1, 0.03 * (scores.length - 1)));
}

let defaultRules: RuleSet | undefined;
/** The shipped rule set, compiled on first use. */
export function getDefaultRules(): RuleSet {
  if (!defaultRules) {
    const { files, hash } = loadRuleFiles();
    defaultRules = compileRules(files, hash);
  }
  return defaultRules;
}
