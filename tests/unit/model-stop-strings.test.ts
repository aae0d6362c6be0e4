import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StopStringMatcher } from '../../inference/engine/stop-strings.ts';

function feed(stops: string[], deltas: string[]) {
  const m = new StopStringMatcher(stops);
  let out = '';
  const emitted: string[] = [];
  let stopped = false;
  let which: string | undefined;
  for (const d of deltas) {
    const r = m.push(d);
    out += r.emit;
    emitted.push(out);
    if (r.stopped) {
      stopped = true;
      which = r.stop;
      break;
    }
  }
  if (!stopped) out += m.flush();
  return { out, emitted, stopped, which };
}

test('a stop string split over several deltas stops the text before it', () => {
  const r = feed(['###'], ['Hel', 'lo #', '#', '# world']);
  assert.equal(r.out, 'Hello ');
  assert.equal(r.stopped, true);
  assert.equal(r.which, '###');
  // nothing of "###" was ever emitted
  assert.ok(r.emitted.every((e) => !e.includes('#')), JSON.stringify(r.emitted));
});

test('a held prefix that turns out not to be a stop string is released', () => {
  const r = feed(['STOP'], ['a ST', 'OAT', ' b']);
  assert.equal(r.out, 'a STOAT b');
  assert.equal(r.stopped, false);
  assert.deepEqual(r.emitted, ['a ', 'a STOAT', 'a STOAT b']);
});

test('text held at the end is flushed when there is no stop', () => {
  const r = feed(['</s>'], ['done <', '/']);
  assert.equal(r.out, 'done </');
});

test('the stop completed first wins; several stop strings', () => {
  assert.equal(feed(['world', 'lo'], ['hello world']).out, 'hel');
  assert.equal(feed(['a', 'xab'], ['xa', 'b']).out, 'x');
  assert.equal(feed(['a', 'xab'], ['xab']).out, 'x');
  assert.equal(feed(['\n\n', 'User:'], ['a\nb', '\n', '\nc']).out, 'a\nb');
});

test('no stop strings: everything passes through at once', () => {
  const m = new StopStringMatcher([]);
  assert.deepEqual(m.push('abc'), { emit: 'abc', stopped: false });
});

test('a surrogate pair is never split between emitted and held text', () => {
  // stop "\uDE00x" starts with a low surrogate: a naive holdback would split "😀" (D83D DE00)
  const m = new StopStringMatcher(['\uDE00x']);
  const r = m.push('a😀');
  assert.ok(!/[\uD800-\uDBFF]$/.test(r.emit), JSON.stringify(r.emit));
  assert.equal(r.emit + m.flush(), 'a😀');
});

test('property: output = text up to the first stop; no emitted prefix ever contains part of it wrongly', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', 'b', '#', ' ', 'é', '😀'), maxLength: 40 }),
      fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '#', ' ', '😀'), minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (text, stops, cuts) => {
        // split text into deltas at arbitrary code-point positions
        const cps = [...text];
        const points = [...new Set(cuts.map((c) => c % (cps.length + 1)))].sort((a, b) => a - b);
        const deltas: string[] = [];
        let prev = 0;
        for (const p of [...points, cps.length]) {
          deltas.push(cps.slice(prev, p).join(''));
          prev = p;
        }
        // the stop completed first in the text (longest on equal ends) cuts the text at its start
        let first = -1;
        let end = Infinity;
        let len = 0;
        for (const s of stops) {
          const i = text.indexOf(s);
          if (i >= 0 && (i + s.length < end || (i + s.length === end && s.length > len))) {
            first = i;
            end = i + s.length;
            len = s.length;
          }
        }
        const expected = first >= 0 ? text.slice(0, first) : text;
        const r = feed(stops, deltas);
        assert.equal(r.out, expected);
        assert.equal(r.stopped, first >= 0);
        for (const e of r.emitted) assert.ok(expected.startsWith(e), 'emitted text must be a prefix of the final text');
      },
    ),
    { numRuns: 500 },
  );
});

// outsideToolCalls (a turn's server-side calls): a client's stop ("+") must not cut the calculator's
// "17 + 25" inside the call, only the answer's text (found with the official client and stop ['+']).
function feedOutside(stops: string[], deltas: string[]) {
  const m = new StopStringMatcher(stops, { outsideToolCalls: true });
  let out = '';
  let stopped = false;
  for (const d of deltas) {
    const r = m.push(d);
    out += r.emit;
    if (r.stopped) { stopped = true; break; }
  }
  if (!stopped) out += m.flush();
  return { out, stopped };
}

test('outsideToolCalls: stop strings apply around <tool_call> blocks, not inside them, whatever the split', () => {
  const call = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "17 + 25 </tool_call> +"}}\n</tool_call>';
  const splits = (text: string) => [1, 2, 3, 5, 8, 1000].map((n) => Array.from({ length: Math.ceil(text.length / n) }, (_, i) => text.slice(i * n, (i + 1) * n)));
  const cases: [string[], string, { out: string; stopped: boolean }][] = [
    [['+'], call, { out: call, stopped: false }],
    [['+'], `Let me add.${call}`, { out: `Let me add.${call}`, stopped: false }],
    [['+'], `17 + 25${call}`, { out: '17 ', stopped: true }],
    [['+'], `${call}\nSo 17 + 25 = 42.`, { out: `${call}\nSo 17 `, stopped: true }],
    // a stop that runs into the tag is not the text's: the call begins
    [['a<'], `xa${call}`, { out: `xa${call}`, stopped: false }],
    [['a<'], 'xa<b', { out: 'x', stopped: true }],
    // a call cut off (its JSON never closed) stays exempt to the end
    [['+'], '<tool_call>\n{"name": "calculator", "arguments": {"expression": "1 + 1', { out: '<tool_call>\n{"name": "calculator", "arguments": {"expression": "1 + 1', stopped: false }],
  ];
  for (const [stops, text, expected] of cases) {
    for (const deltas of splits(text)) assert.deepEqual(feedOutside(stops, deltas), expected, `${JSON.stringify(stops)} ${JSON.stringify(deltas)}`);
  }
  // without the option the call is cut, as before (a client's own calls: its stop applies to them)
  assert.equal(feed(['+'], [call]).out, '<tool_call>\n{"name": "calculator", "arguments": {"expression": "17 ');
});

test('property: outsideToolCalls on text without tool calls is the plain matcher', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', '<', 't', '#', ' ', '😀'), maxLength: 40 }),
      fc.array(fc.string({ unit: fc.constantFrom('a', '<', '#', ' '), minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }),
      (text, stops, sizes) => {
        const deltas: string[] = [];
        for (let i = 0, k = 0; i < text.length; i += sizes[k++ % sizes.length]!) deltas.push(text.slice(i, i + sizes[k % sizes.length]!));
        fc.pre(deltas.join('') === text);
        // (a stop found only at the end, in a tail that might have begun a tag, cuts the text the same
        // way; the generation then ends with its own reason)
        assert.equal(feedOutside(stops, deltas).out, feed(stops, deltas).out);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: outsideToolCalls gives the same text whatever the split, calls included', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('a', '+', '<', '"', '{', '}', ' ', '<tool_call>', '</tool_call>', '<tool_call>\n{"x": "a+<"}\n</tool_call>'), { maxLength: 16 }),
      fc.array(fc.string({ unit: fc.constantFrom('a', '+', '<', '"', 't'), minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
      (parts, stops, sizes) => {
        const text = parts.join('');
        const deltas: string[] = [];
        for (let i = 0, k = 0; i < text.length; k++) { deltas.push(text.slice(i, i + sizes[k % sizes.length]!)); i += sizes[k % sizes.length]!; }
        assert.equal(feedOutside(stops, deltas).out, feedOutside(stops, [text]).out, JSON.stringify({ text, stops, deltas }));
      },
    ),
    { numRuns: 1000 },
  );
});
