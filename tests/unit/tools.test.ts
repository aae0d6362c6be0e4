import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  builtinTools, calculate, convert, currentDateTime, parseToolCalls, renderToolResponses, renderToolsSystemPrompt, runToolCall, toolFunctions,
} from '../../inference/tools/index.ts';
import { toolsForTenant } from '../../schemas/tools.ts';

const ctx = { tenantId: 'acme', ownerId: 'alice', conversationId: 'c1', now: new Date('2026-03-08T12:34:56Z') };

describe('calculator (exact, no eval)', () => {
  const r = (e: string) => calculate(e).result;
  it('adds decimals exactly', () => assert.equal(r('0.1 + 0.2'), '0.3'));
  it('follows precedence, associativity and parentheses', () => {
    assert.equal(r('1 + 2 * 3'), '7');
    assert.equal(r('(1 + 2) * 3'), '9');
    assert.equal(r('2 ^ 3 ^ 2'), '512');
    assert.equal(r('-2 ^ 2'), '-4');
    assert.equal(r('(-2) ^ 2'), '4');
    assert.equal(r('10 - 4 - 3'), '3');
    assert.equal(r('2 ^ -2'), '0.25');
  });
  it('reads % as remainder between operands and as percent after one', () => {
    assert.equal(r('7 % 3'), '1');
    assert.equal(r('-7 % 3'), '-1');
    assert.equal(r('50%'), '0.5');
    assert.equal(r('200 * 15%'), '30');
    assert.equal(r('(10 + 10)% * 5'), '1');
  });
  it('keeps big results whole', () => {
    assert.equal(r('2^200'), '1606938044258990275541962092341162602522202993782792835301376');
    assert.equal(r('123456789012345678901234567890 * 987654321098765432109876543210'), '121932631137021795226185032733622923332237463801111263526900');
  });
  it('reports a repeating decimal with its exact fraction', () => {
    const x = calculate('1/3');
    assert.equal(x.exact, false);
    assert.equal(x.fraction, '1/3');
    assert.equal(x.result, '0.333333333333333333333333333333');
    assert.equal(calculate('2/3').result, '0.666666666666666666666666666667');
  });
  it('accepts exponents in numbers', () => assert.equal(r('1.5e3 + 2.5E-2'), '1500.025'));
  for (const [bad, message] of [
    ['1 / 0', /division by zero/], ['2 ^ 0.5', /whole-number powers/], ['(1 + 2', /missing "\)"/], ['1 +', /ends too early/],
    ['process.exit()', /unexpected character/], ['2 ^ 100000', /more than 2000 digits/], ['1 2', /unexpected "2"/], ['', /ends too early/],
    ['('.repeat(100) + '1' + ')'.repeat(100), /nested too deep/],
  ] as const) {
    it(`refuses ${JSON.stringify(bad.slice(0, 20))}`, () => assert.throws(() => calculate(bad), message));
  }
});

describe('unit conversion', () => {
  it('converts with exact factors', () => {
    assert.equal(convert('1', 'mi', 'km').result, '1.609344');
    assert.equal(convert('100', 'km/h', 'm/s').exact, false);
    assert.equal(convert('1', 'lb', 'g').result, '453.59237');
    assert.equal(convert('1', 'GiB', 'MiB').result, '1024');
  });
  it('converts temperatures (affine)', () => {
    assert.equal(convert('100', 'C', 'F').result, '212');
    assert.equal(convert('-40', 'F', 'C').result, '-40');
    assert.equal(convert('0', 'K', 'C').result, '-273.15');
  });
  it('refuses unknown units and mixed dimensions', () => {
    assert.throws(() => convert('1', 'parsec', 'm'), /unknown unit "parsec"/);
    assert.throws(() => convert('1', 'kg', 'm'), /cannot convert mass \(kg\) to length \(m\)/);
    assert.throws(() => convert('1', 'C', 'kg'), /temperature/);
  });
});

describe('current date and time', () => {
  it('renders the handed clock in a time zone', () => {
    assert.deepEqual(currentDateTime(ctx.now, 'Asia/Kolkata'), {
      iso: '2026-03-08T18:04:56+05:30', timezone: 'Asia/Kolkata', date: '2026-03-08', time: '18:04:56', weekday: 'Sunday', utcOffset: '+05:30',
    });
    assert.equal(currentDateTime(ctx.now).iso, '2026-03-08T12:34:56+00:00');
  });
  it('refuses an unknown zone', () => assert.throws(() => currentDateTime(ctx.now, 'Mars/Olympus'), /unknown time zone/));
});

describe('<tool_call> text format (Qwen2.5/Hermes)', () => {
  it('parses calls and the text around them', () => {
    const text = 'Let me compute.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>\n<tool_call>\n{"name": "current_datetime", "arguments": {}}\n</tool_call>';
    const p = parseToolCalls(text);
    assert.equal(p.content, 'Let me compute.');
    assert.deepEqual(p.calls, [{ name: 'calculator', arguments: { expression: '2+2' } }, { name: 'current_datetime', arguments: {} }]);
    assert.deepEqual(p.invalid, []);
  });
  it('reads an unterminated last block and arguments given as a JSON string', () => {
    const p = parseToolCalls('<tool_call>\n{"name": "calculator", "arguments": "{\\"expression\\": \\"1\\"}"}');
    assert.deepEqual(p.calls, [{ name: 'calculator', arguments: { expression: '1' } }]);
  });
  it('reports blocks that are not valid calls, and plain text has no calls', () => {
    const p = parseToolCalls('<tool_call>\n{"name": 3}\n</tool_call><tool_call>not json</tool_call>');
    assert.equal(p.calls.length, 0);
    assert.equal(p.invalid.length, 2);
    assert.match(p.invalid[0]!.error, /name/);
    assert.match(p.invalid[1]!.error, /not JSON/);
    assert.deepEqual(parseToolCalls('Hello there.'), { content: 'Hello there.', calls: [], invalid: [] });
  });
  it('a </tool_call> inside a JSON string does not end the call (the shipped model wrote one)', () => {
    const call = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "80 / /714285714287 weeks.71].</tool_call></tool_call> {"}}\n</tool_call>';
    const p = parseToolCalls(`Let me see.\n${call}\nDone.`);
    assert.deepEqual(p.invalid, []);
    assert.deepEqual(p.calls, [{ name: 'calculator', arguments: { expression: '80 / /714285714287 weeks.71].</tool_call></tool_call> {' } }]);
    assert.equal(p.content, 'Let me see.\n\nDone.');
    // a body that is not JSON still ends at its first tag, and the next block is read
    const q = parseToolCalls('<tool_call>oops</tool_call><tool_call>\n{"name": "calculator", "arguments": {"expression": "1"}}\n</tool_call>');
    assert.equal(q.invalid.length, 1);
    assert.deepEqual(q.calls, [{ name: 'calculator', arguments: { expression: '1' } }]);
  });
  it('renders the tools into the system turn and results as <tool_response>', () => {
    const fns = toolFunctions(builtinTools());
    const system = renderToolsSystemPrompt('Be brief.', fns);
    assert.ok(system.startsWith('Be brief.\n\n# Tools\n'));
    assert.match(system, /<tools>\n\{"type": "function", "function": \{"name": "calculator"/);
    assert.match(system, /<\/tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call><\/tool_call> XML tags:\n<tool_call>\n\{"name": <function-name>, "arguments": <args-json-object>\}\n<\/tool_call>$/);
    assert.equal(renderToolResponses(['{"a":1}', 'x']), '<tool_response>\n{"a":1}\n</tool_response>\n<tool_response>\nx\n</tool_response>');
    // The parameters are JSON Schema derived from the zod schemas.
    assert.deepEqual(fns.find((f) => f.name === 'calculator')!.parameters.required, ['expression']);
  });
});

describe('running a call', () => {
  const search = async (q: { tenantId: string; ownerId: string; query: string; limit: number }) =>
    [{ conversationId: `${q.tenantId}/${q.ownerId}`, title: q.query, snippet: '', updatedAt: '' }];
  const tools = builtinTools({ searchHistory: search });
  it('runs a tool and returns its JSON result', async () => {
    const out = await runToolCall(tools, { name: 'calculator', arguments: { expression: '6*7' } }, ctx);
    assert.ok(out.ok);
    assert.deepEqual(JSON.parse(out.result), { expression: '6*7', result: '42', exact: true });
  });
  it('scopes search_history to the caller, whatever the arguments say', async () => {
    const out = await runToolCall(tools, { name: 'search_history', arguments: { query: 'trip', limit: 2 } }, ctx);
    assert.ok(out.ok);
    assert.equal(JSON.parse(out.result).results[0].conversationId, 'acme/alice');
    const sneaky = await runToolCall(tools, { name: 'search_history', arguments: { query: 'trip', ownerId: 'bob', tenantId: 'evil' } }, ctx);
    assert.ok(!sneaky.ok);
    assert.equal(sneaky.code, 'INVALID_ARGUMENTS');
    assert.match(sneaky.message, /ownerId|Unrecognized/);
  });
  it('validates arguments, names unknown tools, reports tool errors', async () => {
    const bad = await runToolCall(tools, { name: 'calculator', arguments: { expression: 5 } }, ctx);
    assert.ok(!bad.ok && bad.code === 'INVALID_ARGUMENTS' && /expression/.test(bad.message));
    const unknown = await runToolCall(tools, { name: 'rm_rf', arguments: {} }, ctx);
    assert.ok(!unknown.ok && unknown.code === 'UNKNOWN_TOOL');
    const err = await runToolCall(tools, { name: 'calculator', arguments: { expression: '1/0' } }, ctx);
    assert.ok(!err.ok && err.code === 'TOOL_ERROR' && err.message === 'division by zero');
  });
  it('times out a slow tool and caps a long result', async () => {
    const slow = builtinTools({ searchHistory: () => new Promise(() => {}) });
    const t = await runToolCall(slow, { name: 'search_history', arguments: { query: 'x' } }, ctx, { timeoutMs: 20, maxResultChars: 100 });
    assert.ok(!t.ok && t.code === 'TIMEOUT');
    const big = await runToolCall(tools, { name: 'calculator', arguments: { expression: '2^3000' } }, ctx, { timeoutMs: 1000, maxResultChars: 50 });
    assert.ok(big.ok && big.truncated);
    assert.equal(big.result.length, 50 + '…[truncated]'.length);
  });
});

describe('tenant tool policy', () => {
  it('gives every tool by default, none when off, a subset when narrowed', () => {
    assert.equal(toolsForTenant(undefined, 'acme').length, 4);
    assert.deepEqual(toolsForTenant({ acme: { enabled: false } }, 'acme'), []);
    assert.deepEqual(toolsForTenant({ acme: { allow: ['calculator'] } }, 'acme'), ['calculator']);
    assert.equal(toolsForTenant({ acme: { enabled: false } }, 'other').length, 4);
  });
  it('offers search_documents only to a tenant whose allow list names it (its schema costs ~350 prompt tokens)', () => {
    assert.ok(!toolsForTenant(undefined, 'acme').includes('search_documents'));
    assert.deepEqual(toolsForTenant({ acme: { allow: ['search_documents', 'calculator'] } }, 'acme'), ['calculator', 'search_documents']);
  });
});

describe('what the model is offered', () => {
  it('the argument schemas without validation-only bounds, which zod still enforces on the call', async () => {
    const fns = toolFunctions(builtinTools({ searchHistory: async () => [] }));
    const text = JSON.stringify(fns);
    for (const k of ['minLength', 'maxLength', 'minimum', 'maximum']) assert.ok(!text.includes(`"${k}"`), k);
    assert.deepEqual(fns.find((f) => f.name === 'search_history')!.parameters, {
      type: 'object', properties: { query: { type: 'string', description: 'words to look for' }, limit: { default: 5, type: 'integer' } }, required: ['query'], additionalProperties: false,
    });
    const tooLong = await runToolCall(builtinTools(), { name: 'calculator', arguments: { expression: '1+'.repeat(400) + '1' } }, ctx);
    assert.ok(!tooLong.ok && tooLong.code === 'INVALID_ARGUMENTS' && /expression/.test(tooLong.message));
  });
});
