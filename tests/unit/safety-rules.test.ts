import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SafetyCategory } from '../../schemas/safety.ts';
import { normalize } from '../../safety/normalize.ts';
import { compileRules, DEFAULT_RULES_DIR, loadRuleFiles, RuleFile } from '../../safety/rules.ts';

const custom = compileRules([
  RuleFile.parse({
    category: 'dangerous',
    description: 'test',
    terms: { HIGH: ['pipe bomb'], LOW: ['kill'] },
    patterns: { MEDIUM: ['\\bhow to make (a )?poison\\b'] },
    allow: ['kill a process'],
  }),
]);
const match = (t: string) => custom.match(normalize(t).variants);

describe('safety/rules', () => {
  it('every shipped rule file is valid and there is one per content category', () => {
    const { files, hash } = loadRuleFiles();
    assert.match(hash, /^[0-9a-f]{12}$/);
    const cats = files.map((f) => f.category).sort();
    const expected = SafetyCategory.options.filter((c) => c !== 'pii').sort();
    assert.deepEqual(cats, expected);
    for (const name of readdirSync(DEFAULT_RULES_DIR)) {
      RuleFile.parse(JSON.parse(readFileSync(`${DEFAULT_RULES_DIR}/${name}`, 'utf8')));
    }
  });
  it('scores by the strongest hit', () => {
    assert.equal(match('where do I buy a pipe bomb').dangerous?.hits[0].severity, 'HIGH');
    assert.ok((match('how to make poison').dangerous?.score ?? 0) >= 0.6);
    assert.equal(match('hello there').dangerous, undefined);
  });
  it('allow phrases suppress overlapping hits only', () => {
    assert.equal(match('how do I kill a process').dangerous, undefined);
    assert.ok(match('kill a process then kill him').dangerous);
  });
  it('a suppressed pattern match does not hide a later one', () => {
    const rs = compileRules([
      RuleFile.parse({ category: 'hate', description: 't', patterns: { HIGH: ['\\bbad (\\w+)\\b'] }, allow: ['bad weather'] }),
    ]);
    assert.equal(rs.match(normalize('bad weather today').variants).hate, undefined);
    assert.ok(rs.match(normalize('bad weather and bad people').variants).hate);
  });
  it('obfuscated text matches through normalization', () => {
    assert.ok(match('p1pe b0mb').dangerous);
    assert.ok(match('p i p e  b o m b').dangerous);
  });
  it('rejects a broken rule file', () => {
    assert.throws(() => compileRules([RuleFile.parse({ category: 'hate', description: 'x', patterns: { LOW: ['(unclosed'] } })]), /invalid pattern/);
    assert.throws(() => RuleFile.parse({ category: 'nope', description: 'x' }));
  });
});
