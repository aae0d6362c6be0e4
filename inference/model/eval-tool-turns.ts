// `npm run eval:tool-turns [-- --model DIR]`: whole turns as a user sees them with the platform's
// default server-side tools, the measure behind a model's `parley.tools` and PARLEY_TOOL_SELECTION.
// Each prompt is run as the saga runs a turn (request-batch.ts, tool-round.ts): the tools offered
// (none / the ones selection.ts picks / all four), greedy generation, the calls run by the real tools,
// the results given back, up to 4 rounds; then the final reply is scored.
//   - golden items that need no tool (arithmetic and conversions the model learnt, capitals, greetings,
//     refusals, follow-ups, out-of-domain, summaries): the final reply must equal the golden answer; a
//     call on one that is not arithmetic or a conversion is a stray call;
//   - the golden tool-call prompts (calculator, conversions, date/time): the final reply must hold the
//     tool's result (the number; the date when a date or day is asked, else the time HH:MM).
import { Command } from 'commander';
import { loadModel, resolveModelDir } from '../engine/model.ts';
import { Runner } from '../engine/runner.ts';
import { afterRoundConstraint, builtinTools, calculate, continuationConstraint, MAX_TOOL_ROUNDS, convert, demandsCall, parseToolCalls, renderToolResponses, runToolCall, selectTools, toolCallConstraint, toolFunctions, type Tool } from '../tools/index.ts';
import { loadGolden, type GoldenItem } from './golden.ts';

const opts = new Command()
  .option('--model <dir>', 'model folder (default: MODEL_DIR or the shipped model)')
  .option('--misses', 'print the wrong final replies with tools offered')
  .option('--modes <words>', 'only the modes whose name contains this (e.g. "default")')
  .parse().opts<{ model?: string; misses?: boolean; modes?: string }>();
const model = loadModel(opts.model ?? resolveModelDir());
const runner = await Runner.create(model);
const NOW = new Date('2030-07-15T03:37:40Z');
const tools = builtinTools({ searchHistory: async () => [] });
// "constrained": generated under the tools' call constraint (inference/tools/constraint.ts), as the
// saga does by default (PARLEY_TOOL_CONSTRAINT=on); "call first": a message that demands a tool's
// result must begin with a call (selection.ts demandsCall; the saga's default), its continuation is
// free; the other modes are the model's text as is.
// "retry rule": a text answer forced after a retry that failed too or after the fourth round
// (tool-round.ts), as the saga does.
const ALL_MODES = ['no tools', 'relevant (selection.ts)', 'relevant, constrained', 'relevant, constrained, call first', 'call first, retry rule (default)', 'all four'] as const;
type Mode = (typeof ALL_MODES)[number];
const MODES = ALL_MODES.filter((m) => !opts.modes || m.includes(opts.modes));
const NO_TOOL_KINDS = ['arith', 'follow-arith', 'unit', 'capital', 'follow-capital', 'follow-repeat', 'greet', 'who', 'harm', 'ood', 'summary'];
const TOOL_KINDS = ['tool-calculator', 'tool-units', 'tool-time'];
// Kinds no tool can help with: any call there is a stray call.
const STRAY_KINDS = NO_TOOL_KINDS.filter((k) => k !== 'arith' && k !== 'unit');

const lastUser = (item: GoldenItem) => [...item.messages].reverse().find((m) => m.role === 'user')!.content;

// The turn as the saga runs it; returns the final text and the number of calls made.
async function turn(item: GoldenItem, mode: Mode): Promise<{ text: string; calls: number }> {
  const offered: Tool[] = mode === 'no tools' ? [] : selectTools(tools, lastUser(item), mode === 'all four' ? 'all' : 'relevant');
  const retryRule = mode.includes('retry rule');
  const first = mode.includes('constrained') || retryRule ? toolCallConstraint(offered, mode.includes('call first') && demandsCall(offered, lastUser(item))) : null;
  let next = first; // the constraint of the turn's next generation
  let failedBefore = false; // the previous round's calls all failed
  const spec = offered.length ? toolFunctions(offered).map((f) => ({ type: 'function', function: f })) : undefined;
  const messages = item.messages.map((m) => ({ role: m.role, content: m.content }));
  let calls = 0;
  for (let round = 0; ; round++) {
    const { text } = await runner.complete(model.applyChatTemplate(messages, { tools: spec }), { temperature: 0, maxTokens: 96, ...(next ? { constraint: next } : {}) });
    const parsed = parseToolCalls(text);
    if (offered.length === 0 || round === MAX_TOOL_ROUNDS || (parsed.calls.length === 0 && parsed.invalid.length === 0)) return { text: text.trim(), calls };
    calls += parsed.calls.length + parsed.invalid.length;
    const outcomes = await Promise.all(parsed.calls.map((call) => runToolCall(offered, call, { tenantId: 't', ownerId: 'u', conversationId: 'c', now: NOW })));
    const results = outcomes.map((o) => (o.ok ? o.result : JSON.stringify({ error: o.code, message: o.message })));
    for (const x of parsed.invalid) results.push(JSON.stringify({ error: 'INVALID_CALL', message: x.error }));
    const failedNow = outcomes.every((o) => !o.ok); // invalid blocks are failures too
    // the generation after tool round `round + 1`: the saga's rule with the retry rule, else the turn's constraint with text allowed
    next = retryRule ? afterRoundConstraint(first, round + 1, failedNow && failedBefore) : first && continuationConstraint(first);
    failedBefore = failedNow;
    messages.push({ role: 'assistant', content: text }, { role: 'user', content: renderToolResponses(results) });
  }
}

// What a correct final reply to a tool prompt holds.
function expectedFact(item: GoldenItem): string {
  const call = parseToolCalls(item.answer).calls[0]!;
  const a = call.arguments as Record<string, string>;
  if (call.name === 'calculator') return calculate(a.expression!).result;
  if (call.name === 'convert_units') return convert(String(a.value), a.from!, a.to!).result;
  return /\b(date|day)\b/i.test(lastUser(item)) ? '2030-07-15' : '03:37';
}
const good = (item: GoldenItem, text: string) => (TOOL_KINDS.includes(item.kind) ? text.includes(expectedFact(item)) : text === item.answer);

const golden = loadGolden();
const rows: string[] = [];
const totals = new Map<Mode, { ok: number; n: number; stray: number }>(MODES.map((m) => [m, { ok: 0, n: 0, stray: 0 }]));
for (const kind of [...NO_TOOL_KINDS, ...TOOL_KINDS]) {
  const items = golden.filter((g) => g.kind === kind);
  const cells: string[] = [];
  for (const mode of MODES) {
    let ok = 0, called = 0;
    for (const item of items) {
      const r = await turn(item, mode);
      if (good(item, r.text)) ok++;
      else if (opts.misses && mode !== 'no tools') console.error(`MISS [${kind}, ${mode}] ${lastUser(item)} → ${JSON.stringify(r.text)} (want ${TOOL_KINDS.includes(kind) ? expectedFact(item) : JSON.stringify(item.answer)})`);
      if (r.calls > 0) called++;
    }
    const t = totals.get(mode)!;
    t.ok += ok; t.n += items.length; if (STRAY_KINDS.includes(kind)) t.stray += called;
    cells.push(`${ok}/${items.length}`, mode === 'no tools' ? '–' : `${called}`);
    process.stderr.write('.');
  }
  rows.push(`| ${kind} | ${cells.join(' | ')} |`);
}
process.stderr.write('\n');
console.log(`model: ${model.config.name} (${model.config.dir}); tools: ${tools.map((t) => t.name).join(', ')}; now = ${NOW.toISOString()}`);
console.log(`| kind | ${MODES.map((m) => `${m}: right | calls`).join(' | ')} |`);
console.log(`|---|${MODES.map(() => '---:|---:').join('|')}|`);
console.log(rows.join('\n'));
console.log(`| **all** | ${MODES.map((m) => `**${totals.get(m)!.ok}/${totals.get(m)!.n}** | ${m === 'no tools' ? '–' : `stray ${totals.get(m)!.stray}`}`).join(' | ')} |`);
await runner.session.release();
