// The cheap, synchronous stages of the input cascade: normalize → rules → ROT13/reversed readings →
// PII → injection heuristics, and a second pass over decoded payloads. They run on every check
// (and alone in `checkSync`, what the streaming output filter uses), so they hold no I/O and no
// timers; the model, classifier and judge are in consulted-stages.ts.
import type { SafetyCategory, SafetyStage } from '../schemas/safety.ts';
import { addEvidence, fail, raise, type Accumulator } from './cascade-scores.ts';
import { decodings } from './decode.ts';
import type { InjectionScan } from './injection.ts';
import type { NormalizedText } from './normalize.ts';
import { PII_SEVERITY, type PiiKind, type PiiMatch } from './pii.ts';
import { combineScores, type RuleResults } from './rules.ts';
import { SEVERITY_FLOOR, SEVERITY_SCORE } from './scoring.ts';

/** Stage implementations; replaceable for tests (e.g. to inject a failure). */
export interface CascadeStages {
  normalize(text: string): NormalizedText;
  rules(text: NormalizedText): RuleResults;
  pii(text: string): PiiMatch[];
  injection(text: string): InjectionScan;
}

export interface CheapStagesConfig {
  readonly stages: CascadeStages;
  /** Categories the rules cover: a failed normalize or rules stage fails these. */
  readonly ruleCategories: readonly SafetyCategory[];
  /** How deep decoded payloads are re-scanned. */
  readonly maxDepth: number;
}

/** Returns `cheap(text, acc, stage, depth)`: runs the cheap stages over `text` into `acc`. */
export function createCheapStages(config: CheapStagesConfig): (text: string, acc: Accumulator, stage: SafetyStage, depth: number) => void {
  const { stages, ruleCategories, maxDepth } = config;

  /** Runs the cheap stages over `text` (and, recursively, over decoded payloads). */
  function cheap(text: string, acc: Accumulator, stage: SafetyStage, depth: number): void {
    let norm: NormalizedText;
    try {
      norm = stages.normalize(text);
    } catch (e) {
      fail(acc, 'normalize', e, ruleCategories);
      norm = { text: text.toLowerCase(), variants: [text.toLowerCase()] };
    }
    try {
      const r = stages.rules(norm);
      for (const [cat, res] of Object.entries(r) as [SafetyCategory, NonNullable<RuleResults[SafetyCategory]>][]) {
        raise(acc, cat, res.score);
        for (const h of res.hits) addEvidence(acc, cat, h.ruleId);
      }
    } catch (e) {
      fail(acc, 'rules', e, ruleCategories);
    }
    // ROT13 and reversed readings that look like language are checked too (both ways), on input:
    // a model's own answer has no reason to be enciphered, and gibberish can decode to noise.
    if (depth === 0 && stage === 'input') for (const d of decodings(text)) rescan(d.text, d.kind, acc, stage, maxDepth);
    if (depth === 0) {
      try {
        const found = stages.pii(text);
        acc.pii.push(...found);
        const kinds = [...new Set(found.map((m) => m.kind))] as PiiKind[];
        if (kinds.length) {
          raise(acc, 'pii', combineScores(kinds.map((k) => SEVERITY_SCORE[PII_SEVERITY[k]])));
          for (const k of kinds) addEvidence(acc, 'pii', `pii/${k}`);
        }
      } catch (e) {
        fail(acc, 'pii', e, ['pii']);
      }
    }
    if (stage === 'output') return; // injection heuristics are about input
    let scan: InjectionScan;
    try {
      scan = stages.injection(text);
    } catch (e) {
      fail(acc, 'injection', e, ['prompt_injection']);
      return;
    }
    if (scan.signals.length) {
      const rulesScore = acc.scores.get('prompt_injection') ?? 0;
      const scores = scan.signals.map((s) => s.score);
      raise(acc, 'prompt_injection', combineScores(rulesScore ? [rulesScore, ...scores] : scores));
      for (const s of scan.signals) addEvidence(acc, 'prompt_injection', s.id);
    }
    if (depth >= maxDepth) return;
    for (const decoded of scan.decoded) rescan(decoded, 'decoded', acc, stage, depth);
  }

  /**
   * Scans decoded text (a base64 payload, a ROT13 or reversed reading) with the cheap stages and
   * merges what it finds. Hiding a flagged request inside an encoding is itself an evasion
   * attempt, so a flagged decoding also raises prompt_injection on input.
   */
  function rescan(decoded: string, how: string, acc: Accumulator, stage: SafetyStage, depth: number): void {
    const inner: Accumulator = { scores: new Map(), evidence: new Map(), failures: acc.failures, pii: [] };
    cheap(decoded, inner, stage, depth + 1);
    let smuggled = false;
    for (const [cat, score] of inner.scores) {
      raise(acc, cat, score);
      for (const id of inner.evidence.get(cat) ?? []) addEvidence(acc, cat, `${how}:${id}`);
      if (score >= SEVERITY_FLOOR.LOW) smuggled = true;
    }
    if (smuggled && stage === 'input') {
      raise(acc, 'prompt_injection', SEVERITY_SCORE.MEDIUM);
      addEvidence(acc, 'prompt_injection', 'injection/encoded-flagged-content');
    }
  }

  return cheap;
}
