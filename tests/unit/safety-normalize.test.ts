import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalize } from '../../safety/normalize.ts';
import { PhraseMatcher } from '../../safety/matcher.ts';

const has = (input: string, expected: string): void => {
  const n = normalize(input);
  assert.ok(
    n.variants.some((v) => ` ${v} `.includes(` ${expected} `)),
    `${JSON.stringify(input)} → ${JSON.stringify(n.variants)} should contain ${JSON.stringify(expected)}`,
  );
};

describe('safety/normalize', () => {
  it('lowercases, applies NFKC and strips diacritics', () => {
    has('ＫＩＬＬ', 'kill');
    has('𝐤𝐢𝐥𝐥', 'kill');
    has('Kíll Mé', 'kill me');
  });
  it('removes zero-width and control characters', () => {
    has('ki\u200bll my\u200dself', 'kill myself');
    has('ki\u00adll', 'kill');
    has('ki\u0007ll', 'kill');
  });
  it('folds Cyrillic and Greek homoglyphs', () => {
    has('ѕuісіdе', 'suicide'); // Cyrillic ѕ і с і е
    has('bοmb', 'bomb'); // Greek omicron
  });
  it('folds leetspeak inside words only', () => {
    has('k1ll y0urs3lf', 'kill yourself');
    has('$h00t', 'shoot');
    has('ki11', 'kill'); // `1` as `l` is the second reading
    has('k!ll', 'kill');
    assert.equal(normalize('paid $100 in 2024').text, 'paid 100 in 2024');
    assert.equal(normalize('kill!').text, 'kill');
  });
  it('joins spaced-out letters, keeping words apart', () => {
    has('s u i c i d e', 'suicide');
    has('k.i.l.l', 'kill');
    has('b-o-m-b', 'bomb');
    has('make a b-o-m-b', 'a bomb');
    has('I g n o r e previous', 'ignore previous');
    assert.equal(normalize('h o w  t o').text, 'how t o');
  });
  it('handles elongation both ways', () => {
    has('kiiiiill', 'kill');
    has('killllll', 'kill');
  });
  it('yields one variant for ordinary text, with sentence breaks as `|`', () => {
    assert.deepEqual(normalize("Hello, world! It's a fine day.\nBye").variants, ['hello world | its a fine day | bye']);
    assert.equal(normalize('see e.g. k.i.l.l! ok').text, 'see e g | kill | ok');
  });
  it('snippets for other readings carry the span of the re-read word', () => {
    const n = normalize('one two k1ll three');
    assert.deepEqual(n.variants, ['one two kill three', 'one two kll three', 'one two kl three']);
    const [s, e] = n.focus![1]!;
    assert.equal(n.variants[1].slice(s, e), 'kll');
  });
  it('never throws and handles empty and odd input', () => {
    for (const s of ['', ' ', '\u0000', '\uD800', '💣💣', 'a'.repeat(10000)]) normalize(s);
  });
});

describe('safety/matcher', () => {
  const m = new PhraseMatcher([
    { phrase: 'kill', payload: 'a' },
    { phrase: 'kill myself', payload: 'b' },
    { phrase: 'suicid*', payload: 'c' },
  ]);
  const hits = (t: string) => {
    const out: string[] = [];
    m.scan(t, (h) => out.push(`${h.payload}:${h.start}-${h.end}`));
    return out.sort();
  };
  it('finds overlapping phrases in one pass', () => {
    assert.deepEqual(hits('i will kill myself'), ['a:7-11', 'b:7-18']);
  });
  it('respects word boundaries', () => {
    assert.deepEqual(hits('skill killer'), []);
  });
  it('supports prefix phrases', () => {
    assert.deepEqual(hits('feeling suicidal'), ['c:8-16']);
  });
});
