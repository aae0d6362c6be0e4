// CI gate on the shipped model: a fast subset of the held-out golden set v2 (the first items of every
// kind) runs through the engine's Runner (greedy, ONNX Runtime); a skill that scores below its floor
// fails the build. The full set and the per-skill table: `npm run eval:golden`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { Runner } from '../../inference/engine/runner.ts';
import { loadGolden, scoreGolden, skillOf, subset } from '../../inference/model/golden.ts';
import { GATE_FLOORS, GATE_PER_KIND, GATE_TARGET } from '../../inference/model/golden-gate.ts';

const model = loadModel(SHIPPED_MODEL_DIR);
const runner = await Runner.create(model, { threads: 2 });
after(() => runner.session.release());

const items = subset(loadGolden(), GATE_PER_KIND);

test('the gate subset covers every skill of the golden set', () => {
  const all = new Set(loadGolden().map((g) => skillOf(g.kind)));
  assert.deepEqual(new Set(items.map((g) => skillOf(g.kind))), all);
  for (const skill of Object.keys(GATE_FLOORS)) assert.ok(all.has(skill), `floor for an unknown skill: ${skill}`);
});

test(`every skill scores at least its floor (target ${GATE_TARGET}) on the golden subset`, async () => {
  const r = await scoreGolden(model, runner, items);
  const below = r.skills.filter((s) => s.ok / s.n < (GATE_FLOORS[s.skill] ?? GATE_TARGET));
  const misses = r.failures.slice(0, 8).map((f) => `[${f.kind}] expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.got)}`);
  assert.deepEqual(
    below.map((s) => `${s.skill} ${s.ok}/${s.n}`),
    [],
    `skills below their floor:\n${misses.join('\n')}`,
  );
});

// Which tool it names is scored by the gate above (v2 sometimes names a tool that is not in the list:
// see the model card); here: the format issue 18 parses. A malformed block is not fatal on the
// platform (the saga records it as an INVALID_CALL and tells the model), so the gate is a share of
// the calls it makes that parse, with a name and an arguments object: the shipped model's 24/27 minus
// one (its 3 malformed ones are calls to unseen tools whose argument value it fails to copy).
const WELL_FORMED_FLOOR = 0.85;
test('the tool calls the model makes are well-formed Hermes blocks (what issue 18 parses)', async (t) => {
  const calls = subset(loadGolden().filter((g) => g.tools && g.answer.startsWith('<tool_call>')), GATE_PER_KIND);
  let made = 0;
  let wellFormed = 0;
  let unlisted = 0;
  const malformed: string[] = [];
  for (const item of calls) {
    const res = await runner.complete(model.applyChatTemplate(item.messages, { tools: item.tools }), { temperature: 0, maxTokens: 96 });
    const text = res.text.trim();
    if (!text.startsWith('<tool_call>')) continue;
    made++;
    const call = parseCall(text);
    if (!call) {
      malformed.push(text);
      continue;
    }
    wellFormed++;
    const names = (item.tools ?? []).map((t) => (t.function as { name: string }).name);
    if (!names.includes(call.name)) unlisted++;
  }
  assert.ok(made > 0, 'the model made no tool call at all');
  t.diagnostic(`${made}/${calls.length} prompts answered with a call, ${wellFormed} well-formed, ${unlisted} naming a tool not in the list`);
  assert.ok(wellFormed >= WELL_FORMED_FLOOR * made, `malformed calls:\n${malformed.join('\n')}`);
});

function parseCall(text: string): { name: string; arguments: Record<string, unknown> } | null {
  const m = /^<tool_call>\n(\{.*\})\n<\/tool_call>$/s.exec(text);
  if (!m) return null;
  try {
    const call = JSON.parse(m[1]!) as { name?: unknown; arguments?: unknown };
    const ok = typeof call.name === 'string' && !!call.arguments && typeof call.arguments === 'object' && !Array.isArray(call.arguments);
    return ok ? (call as { name: string; arguments: Record<string, unknown> }) : null;
  } catch {
    return null;
  }
}
