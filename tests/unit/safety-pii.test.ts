import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectPii, ibanValid, luhnValid, scrubPii, type PiiKind } from '../../safety/pii.ts';

const kinds = (t: string, opts = {}) => detectPii(t, opts).map((m) => `${m.kind}:${t.slice(m.start, m.end)}`);

describe('safety/pii validators', () => {
  it('Luhn', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('378282246310005'), true);
    assert.equal(luhnValid(''), false);
  });
  it('IBAN mod-97 and country length', () => {
    assert.equal(ibanValid('GB82 WEST 1234 5698 7654 32'), true);
    assert.equal(ibanValid('GB82 WEST 1234 5698 7654 33'), false);
    assert.equal(ibanValid('DE89370400440532013000'), true);
    assert.equal(ibanValid('DE8937040044053201300'), false); // one digit short for DE
    assert.equal(ibanValid('XX89370400440532013000'), false);
  });
});

describe('safety/pii detection', () => {
  const positives: [string, PiiKind, string][] = [
    ['mail jane.doe@example.com now', 'EMAIL', 'jane.doe@example.com'],
    ['call (415) 555-2671 today', 'PHONE', '(415) 555-2671'],
    ['ring +44 20 7946 0958.', 'PHONE', '+44 20 7946 0958'],
    ['phone: 3125550199', 'PHONE', '3125550199'],
    ['card 4111 1111 1111 1111 exp', 'CARD', '4111 1111 1111 1111'],
    ['amex 378282246310005', 'CARD', '378282246310005'],
    ['ssn 123-45-6789', 'SSN', '123-45-6789'],
    ['my social security number is 536224859', 'SSN', '536224859'],
    ['iban GB82 WEST 1234 5698 7654 32 thanks', 'IBAN', 'GB82 WEST 1234 5698 7654 32'],
    ['from 73.162.45.201 today', 'IP', '73.162.45.201'],
    ['v6 2a00:1450:4001:80b::200e here', 'IP', '2a00:1450:4001:80b::200e'],
  ];
  for (const [text, kind, item] of positives) {
    it(`finds ${kind} in ${JSON.stringify(text)}`, () => {
      assert.deepEqual(kinds(text), [`${kind}:${item}`]);
    });
  }
  const negatives = [
    'card 4111 1111 1111 1112 failed', // Luhn fails
    'order 1234567890123 shipped', // no network prefix
    'ISBN 978-3-16-148410-0',
    'on 2024-03-15 at 10:30:45',
    'version 1.2.3.4 and v10.0.0.1',
    'chapter 12.3.4.5',
    'gateway 192.168.1.1, 10.0.0.1, 127.0.0.1, 8.8.8.8',
    'ssn 000-12-3456 or 666-12-3456 or 912-34-5678',
    'GB82 WEST 1234 5698 7654 33',
    'std::vector<int> and fe80::1 and ::1 and 2001:db8::1',
    'a 9 digit number 536224859 without context',
    'pi 3.14159265358979',
  ];
  for (const text of negatives) {
    it(`finds nothing in ${JSON.stringify(text)}`, () => assert.deepEqual(kinds(text), []));
  }
  it('reports private addresses with ipScope=all', () => {
    assert.deepEqual(kinds('at 192.168.1.1', { ipScope: 'all' }), ['IP:192.168.1.1']);
  });
  it('scrubs with typed placeholders and keeps the rest', () => {
    const r = scrubPii('Mail a@b.co or call (415) 555-2671, card 4242424242424242.');
    assert.equal(r.text, 'Mail [REDACTED:EMAIL] or call [REDACTED:PHONE], card [REDACTED:CARD].');
    assert.equal(r.matches.length, 3);
  });
  it('spans are offsets into the original text and never overlap', () => {
    const t = 'x'.repeat(7) + ' bob@example.org 4111-1111-1111-1111';
    const ms = detectPii(t);
    for (let i = 1; i < ms.length; i++) assert.ok(ms[i - 1].end <= ms[i].start);
    assert.equal(t.slice(ms[0].start, ms[0].end), 'bob@example.org');
  });
});
