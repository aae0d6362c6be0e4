// Streaming-aware output filter: fed the model's token deltas, it releases text to the client only
// after checking it.
//
// - Text is checked at sentence and line boundaries: a boundary is `.`, `!` or `?` followed by
//   whitespace, a newline, or a CJK full stop. Rules never match across a sentence break, so each
//   sentence is checked on its own, plus (after a forced cut) the part of it already released.
// - A sentence longer than `maxUncheckedChars` without a boundary is checked whole, and released
//   up to a whitespace at least `holdBackChars` before its end: any blocked phrase not yet complete
//   is then entirely in the held part (phrases are shorter than `holdBackChars`).
// - So at most one unchecked sentence (or `maxUncheckedChars`) is held back at any time.
// - Personal data in released text is replaced by `[REDACTED:<KIND>]`.
// - On a violation the stream stops: nothing more is released (the offending sentence never is),
//   and the step reports the category, a policy notice and finish reason `content_filter`.
// - With `model` (the moderation model, safety/model.ts), every segment that passed the rules is
//   also scored by the model (in its worker thread, off the event loop) before it is released: it
//   waits in `awaiting` until its verdict is in, and `push` releases the segments whose verdicts
//   have arrived, in order; only a HIGH model score stops an answer (the model learnt from
//   requests). `finish()` waits for the outstanding verdicts; `end()` alone returns
//   only what is already cleared. A model error or timeout releases the segment (the rules passed
//   it) and marks the result degraded, as on the input path.
import { performance } from 'node:perf_hooks';
import type { CategoryScore, SafetyCategory, SafetySettings, SafetyVerdict } from '../schemas/safety.ts';
import { getDefaultCascade, type SafetyCascade } from './cascade.ts';
import { contentHashOf, type Finding, type SafetyCheckResult, type StageFailure } from './cascade-result.ts';
import { OUTPUT_CATEGORIES } from './cascade-verdict.ts';
import type { ClassifierScores, SafetyClassifier } from './classifier.ts';
import { getDefaultModel } from './model.ts';
import type { PiiMatch } from './pii.ts';
import { blocks, resolveSettings, type TenantSafetyPolicy } from './policy.ts';
import { outputPolicyNotice, REFUSAL_PRIORITY, type RefusalReason } from './refusal.ts';
import { roundScore, severityOf } from './scoring.ts';

export interface OutputFilterOptions {
  readonly settings?: SafetySettings;
  readonly tenant?: TenantSafetyPolicy;
  /** Defaults to the shipped cascade (rules, PII, no classifier). */
  readonly cascade?: SafetyCascade;
  /** Check at least every this many characters even without a boundary (default 256). */
  readonly maxUncheckedChars?: number;
  /** After a forced check, keep this many characters back (default 96; < maxUncheckedChars). */
  readonly holdBackChars?: number;
  /** After a forced cut, at most this much of the released part of the sentence is rechecked (default 128). */
  readonly contextChars?: number;
  /** Replace personal data in released text (default true). */
  readonly scrubPii?: boolean;
  /** The moderation model, consulted for each segment the rules passed (default: none). */
  readonly model?: SafetyClassifier;
  /** Time limit of one model call (default 2000 ms); over it the segment is released, degraded. */
  readonly modelTimeoutMs?: number;
}

/** A segment the model has been asked about: released once `verdict` is in. */
interface Awaiting {
  readonly text: string;
  verdict?: ClassifierScores | Error;
  readonly done: Promise<void>;
}

/** The model judges windows of at least this many words (as on the input path). */
const MIN_MODEL_WORDS = 5;

export interface FilterStop {
  readonly category: SafetyCategory;
  readonly reason: RefusalReason;
  /** Text to show the user in place of the rest of the answer. */
  readonly notice: string;
  readonly finishReason: 'content_filter';
}

export interface FilterStep {
  /** Text the client may show now (checked, PII scrubbed). */
  readonly emit: string;
  /** Set once the stream was stopped by the filter; every later step repeats it. */
  readonly stopped?: FilterStop;
}

export interface OutputFilter {
  push(delta: string): FilterStep;
  /** Flushes what is held back (checking it first). Call once when the model has finished. */
  end(): FilterStep;
  /** end(), then waits for the model's outstanding verdicts: what the client may still show. */
  finish(): Promise<FilterStep>;
  readonly stopped: FilterStop | undefined;
  /** Characters received but not yet released. */
  readonly heldChars: number;
  /**
   * The output-stage decision for the SafetyChecked event: per-category maxima over every check,
   * the total time spent checking (the latency the filter added), and the hash of the text seen.
   */
  result(): SafetyCheckResult;
}

const CJK_STOP = /[。！？]/;

/** Index just past the first boundary at or after `from`, or -1. */
function nextBoundary(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) return i + 1; // \n
    if (c === 46 || c === 33 || c === 63) {
      // . ! ? followed by whitespace
      const n = s.charCodeAt(i + 1);
      if (n === 32 || n === 10 || n === 9 || n === 13) return i + 2;
      continue;
    }
    if (c > 0x3000 && CJK_STOP.test(s[i])) return i + 1;
  }
  return -1;
}

export function createOutputFilter(options: OutputFilterOptions = {}): OutputFilter {
  const cascade = options.cascade ?? getDefaultCascade();
  const maxUnchecked = Math.max(16, options.maxUncheckedChars ?? 256);
  const holdBack = Math.min(options.holdBackChars ?? 96, maxUnchecked - 8);
  const contextChars = options.contextChars ?? 128;
  const scrub = options.scrubPii ?? true;

  let pending = '';
  let scanFrom = 0; // boundaries before this index in `pending` were already looked for
  let context = ''; // tail of released raw text
  let seen = ''; // every character received (for the content hash), up to a stop
  let stopped: FilterStop | undefined;
  let checkMs = 0;
  let checks = 0;
  const maxScore = new Map<SafetyCategory, number>();
  const evidence = new Map<SafetyCategory, Set<string>>();
  const failures: StageFailure[] = [];
  const piiFound: PiiMatch[] = [];
  let released = 0;
  const model = options.model;
  const thresholds = resolveSettings(options.settings, options.tenant).thresholds;
  const awaiting: Awaiting[] = [];

  /** Asks the model about `window`; the segment's text waits until the answer is in. */
  function consultModel(window: string, text: string): void {
    const timeoutMs = options.modelTimeoutMs ?? 2000;
    const entry: { text: string; verdict?: ClassifierScores | Error; done: Promise<void> } = { text, done: Promise.resolve() };
    const t0 = performance.now();
    const signal = AbortSignal.timeout(timeoutMs);
    entry.done = model!.classify(window, signal).then(
      (scores) => { entry.verdict = scores; },
      (e: unknown) => { entry.verdict = e instanceof Error ? e : new Error(String(e)); },
    ).finally(() => { checkMs += performance.now() - t0; });
    awaiting.push(entry);
  }

  /** Releases, in order, the segments whose verdicts are in; stops on a blocking one. */
  function releaseJudged(): string {
    let out = '';
    while (awaiting.length && awaiting[0].verdict && !stopped) {
      const { verdict, text } = awaiting.shift()!;
      if (verdict instanceof Error) {
        const timedOut = verdict.name === 'TimeoutError' || verdict.name === 'AbortError';
        failures.push({ stage: 'model', reason: timedOut ? 'timeout' : 'error', message: verdict.message, categories: [] });
        out += text;
        continue;
      }
      let worst: SafetyCategory | undefined;
      for (const c of OUTPUT_CATEGORIES) {
        const score = verdict![c];
        if (score === undefined) continue;
        maxScore.set(c, Math.max(maxScore.get(c) ?? 0, score));
        // The model learnt from requests, not answers: on an answer only a HIGH score (and one the
        // policy blocks) stops the stream.
        if (severityOf(score) === 'HIGH' && blocks('HIGH', thresholds[c])) {
          let e = evidence.get(c);
          if (!e) evidence.set(c, (e = new Set()));
          e.add(`model/${model!.id}`);
          if (!worst || REFUSAL_PRIORITY.indexOf(c) < REFUSAL_PRIORITY.indexOf(worst)) worst = c;
        }
      }
      if (worst) {
        stopped = { category: worst, reason: 'violation', notice: outputPolicyNotice(worst, 'violation'), finishReason: 'content_filter' };
        awaiting.length = 0;
        break;
      }
      out += text;
    }
    return out;
  }

  /** Checks `segment` (with context); returns its releasable text or undefined after a stop. */
  function checkAndRelease(segment: string, candidateCut?: number): { text: string; cut: number } | undefined {
    const t0 = performance.now();
    const window = context + segment;
    const r = cascade.checkSync(window, options.settings, { stage: 'output', tenant: options.tenant });
    checks++;
    for (const c of r.categories) maxScore.set(c.category, Math.max(maxScore.get(c.category) ?? 0, c.score));
    for (const f of r.findings) {
      let s = evidence.get(f.category);
      if (!s) evidence.set(f.category, (s = new Set()));
      for (const e of f.evidence) s.add(e);
    }
    failures.push(...r.failures);
    if (r.blockedCategories.length) {
      const primary = REFUSAL_PRIORITY.find((c) => r.blockedCategories.includes(c)) ?? r.blockedCategories[0];
      const reason: RefusalReason = r.failClosed.includes(primary) ? 'unverified' : 'violation';
      stopped = { category: primary, reason, notice: outputPolicyNotice(primary, reason), finishReason: 'content_filter' };
      checkMs += performance.now() - t0;
      return undefined;
    }
    // PII spans relative to the segment.
    const offset = context.length;
    const spans = r.pii
      .map((m) => ({ kind: m.kind, start: Math.max(0, m.start - offset), end: m.end - offset }))
      .filter((m) => m.end > 0);
    let cut = candidateCut ?? segment.length;
    // Never cut through an item of personal data: release only up to its start.
    for (const m of spans) if (m.start < cut && cut < m.end) cut = m.start;
    const part = segment.slice(0, cut);
    let out = part;
    if (scrub) {
      out = '';
      let pos = 0;
      for (const m of spans) {
        if (m.start >= cut) break;
        out += part.slice(pos, m.start) + `[REDACTED:${m.kind}]`;
        pos = Math.min(m.end, cut);
        piiFound.push({ kind: m.kind, start: released + m.start, end: released + Math.min(m.end, cut) });
      }
      out += part.slice(pos);
    }
    if (candidateCut === undefined) {
      // The segment ended a sentence; rules never span sentence breaks, so no context is needed.
      context = '';
    } else {
      // Forced cut mid-sentence: keep the released part of this sentence (whole words) as context.
      const tail = (context + part).slice(-contextChars);
      const sp = tail.search(/\s/);
      context = (context + part).length <= contextChars || sp < 0 ? tail : tail.slice(sp + 1);
    }
    released += part.length;
    checkMs += performance.now() - t0;
    // The model reads the window (context + the released part), when it has words enough; what
    // it has not cleared yet waits behind it, in order.
    const judged = window.slice(0, offset + cut);
    if (model && (awaiting.length || judged.split(/\s+/).filter(Boolean).length >= MIN_MODEL_WORDS)) {
      if (judged.split(/\s+/).filter(Boolean).length >= MIN_MODEL_WORDS) consultModel(judged, out);
      else awaiting.push({ text: out, verdict: {}, done: Promise.resolve() });
      return { text: '', cut };
    }
    return { text: out, cut };
  }

  function drain(final: boolean): FilterStep {
    let emit = '';
    for (;;) {
      const b = nextBoundary(pending, scanFrom);
      if (b > 0) {
        const segment = pending.slice(0, b);
        const r = checkAndRelease(segment);
        if (!r) return { emit, stopped };
        emit += r.text;
        pending = pending.slice(r.cut);
        scanFrom = 0;
        continue;
      }
      scanFrom = Math.max(0, pending.length - 1);
      if (final) {
        if (pending.length) {
          const r = checkAndRelease(pending);
          if (!r) return { emit, stopped };
          emit += r.text;
          pending = pending.slice(r.cut);
        }
        return { emit };
      }
      if (pending.length >= maxUnchecked) {
        // Release up to a whitespace at least `holdBack` characters before the end.
        const limit = pending.length - holdBack;
        let cut = -1;
        for (let i = limit; i > 0; i--) {
          const c = pending.charCodeAt(i - 1);
          if (c === 32 || c === 9 || c === 10 || c === 13) { cut = i; break; }
        }
        if (cut <= 0) cut = limit; // one long token: cut inside it
        const r = checkAndRelease(pending, cut);
        if (!r) return { emit, stopped };
        emit += r.text;
        pending = pending.slice(r.cut);
        scanFrom = 0;
        if (r.cut === 0) return { emit }; // held back by a PII item spanning the cut: wait for more
        continue;
      }
      return { emit };
    }
  }

  /** A step's text followed by whatever the model has cleared since; a model stop wins. */
  function withJudged(step: FilterStep): FilterStep {
    if (step.stopped) return step;
    const judged = releaseJudged();
    return stopped ? { emit: step.emit + judged, stopped } : { emit: step.emit + judged };
  }

  let ended = false;
  return {
    push(delta: string): FilterStep {
      if (stopped) return { emit: '', stopped };
      if (ended) throw new Error('output filter: push after end');
      if (!delta) return { emit: '' };
      seen += delta;
      pending += delta;
      return withJudged(drain(false));
    },
    end(): FilterStep {
      if (stopped) return { emit: '', stopped };
      if (ended) return withJudged({ emit: '' });
      ended = true;
      return withJudged(drain(true));
    },
    async finish(): Promise<FilterStep> {
      const first = this.end();
      if (first.stopped) return first;
      let emitted = first.emit;
      while (awaiting.length && !stopped) {
        await Promise.all(awaiting.map((a) => a.done));
        const more = withJudged({ emit: '' });
        if (more.stopped) return { emit: emitted + more.emit, stopped: more.stopped };
        emitted += more.emit;
      }
      return { emit: emitted };
    },
    get stopped() {
      return stopped;
    },
    get heldChars() {
      return pending.length + awaiting.reduce((n, a) => n + a.text.length, 0);
    },
    result(): SafetyCheckResult {
      const categories: CategoryScore[] = OUTPUT_CATEGORIES.map((c) => {
        const score = roundScore(maxScore.get(c) ?? 0);
        return { category: c, score, severity: severityOf(score), blocked: stopped?.category === c };
      });
      const verdict: SafetyVerdict = stopped
        ? 'blocked'
        : categories.some((c) => c.severity !== 'NEGLIGIBLE')
          ? 'flagged'
          : 'allowed';
      const findings: Finding[] = [...evidence].map(([category, ids]) => ({ category, evidence: [...ids].sort() }));
      return {
        stage: 'output',
        verdict,
        categories,
        policyVersion: cascade.policyVersion,
        latencyMs: Math.round(checkMs * 1000) / 1000,
        degraded: failures.length > 0,
        contentHash: contentHashOf(seen),
        blockedCategories: stopped ? [stopped.category] : [],
        findings,
        pii: piiFound,
        failures,
        classifierConsulted: false,
        failClosed: stopped?.reason === 'unverified' ? [stopped.category] : [],
      };
    },
  };
}

/** Convenience for a whole text: the released text and the stop, as a streamed answer would get. */
export function filterText(text: string, options?: OutputFilterOptions): { text: string; stopped?: FilterStop } {
  if (options?.model) throw new Error('filterText is synchronous: with a model, use filterTextAsync');
  const f = createOutputFilter(options);
  const a = f.push(text);
  if (a.stopped) return { text: a.emit, stopped: a.stopped };
  const b = f.end();
  return { text: a.emit + b.emit, stopped: b.stopped };
}

/**
 * The output filter the chat path runs: rules and PII, and with `PARLEY_SAFETY_OUTPUT_MODEL=on` the
 * shipped moderation model at sentence boundaries too (the same model as the input cascade).
 * Off by default: measured, the model (trained on requests, not answers) stopped the tiny chat
 * model's harmless sampled text (tests/e2e/streaming.test.ts, "Count slowly to one hundred" at
 * temperature 0.8), even at HIGH only.
 */
export function createDefaultOutputFilter(options: Omit<OutputFilterOptions, 'model'> = {}): OutputFilter {
  const on = process.env.PARLEY_SAFETY_OUTPUT_MODEL === 'on' && process.env.PARLEY_SAFETY_MODEL !== 'off';
  return createOutputFilter(on ? { ...options, model: getDefaultModel() } : options);
}

/** filterText with the model lane: waits for the model's verdicts. */
export async function filterTextAsync(text: string, options?: OutputFilterOptions): Promise<{ text: string; stopped?: FilterStop }> {
  const f = createOutputFilter(options);
  const a = f.push(text);
  if (a.stopped) return { text: a.emit, stopped: a.stopped };
  const b = await f.finish();
  return { text: a.emit + b.emit, stopped: b.stopped };
}
