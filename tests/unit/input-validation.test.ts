import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildSchema, getIntrospectionQuery, GraphQLError, type GraphQLField } from 'graphql';
import { z } from 'zod';
import { isPosition } from '../../eventstore/port.ts';
import { decodeCursor, encodeCursor } from '../../read-api/graphql/cursor.ts';
import { documentProblem, MAX_NESTING } from '../../read-api/graphql/document-limits.ts';
import { argumentsProblem } from '../../read-api/graphql/input-validation.ts';
import { OpenAiError } from '../../read-api/openai/errors.ts';
import { parseRequest, toTurn } from '../../read-api/openai/request.ts';
import { Id, IsoDateTime, IsoDay, SamplingParams, Text, textProblem, withoutNul } from '../../schemas/common.ts';

describe('text at the boundary', () => {
  it('refuses NUL and unpaired surrogates, accepts any well-formed Unicode', () => {
    for (const bad of ['\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\udc00\ud800', 'end\ud83d']) {
      assert.notEqual(textProblem(bad), null, JSON.stringify(bad));
      assert.equal(Text.safeParse(bad).success, false, JSON.stringify(bad));
    }
    for (const good of ['', 'hello', '😀', 'e\u0301', '\ufffd', '\u202eRTL', '\uffff']) {
      assert.equal(textProblem(good), null, JSON.stringify(good));
      assert.equal(Text.safeParse(good).success, true, JSON.stringify(good));
    }
  });

  it('agrees with String.prototype.isWellFormed on arbitrary code units', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
      const wellFormed = (s as string & { isWellFormed(): boolean }).isWellFormed() && !s.includes('\u0000');
      assert.equal(textProblem(s) === null, wellFormed);
    }));
  });

  it('shows model output with NUL or an unpaired surrogate as U+FFFD, and leaves good text alone', () => {
    assert.equal(withoutNul('a\u0000b\ud800c😀'), 'a\ufffdb\ufffdc😀');
    const s = 'fine 😀';
    assert.equal(withoutNul(s), s);
  });

  it('names the stop sequence that is not text', () => {
    const r = SamplingParams.safeParse({ stop: ['ok', '\u0000'] });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues[0]!.path, ['stop', 1]);
  });
});

describe('dates PostgreSQL accepts', () => {
  it('refuses the year 0000, impossible days and offsets beyond 15:59', () => {
    for (const bad of ['0000-01-01', '2023-02-29', '2024-02-30', 'not a date']) assert.equal(IsoDay.safeParse(bad).success, false, bad);
    for (const bad of ['0000-01-01T00:00:00Z', '2024-02-31T00:00:00Z', '2026-01-01T00:00:00+23:59', '2026-01-01T00:00:00', 'not a date']) {
      assert.equal(IsoDateTime.safeParse(bad).success, false, bad);
    }
    assert.equal(IsoDay.safeParse('2024-02-29').success, true);
    for (const good of ['2026-11-29T10:00:00Z', '2026-11-29T10:00:00.123+14:00', '0001-01-01T00:00:00Z']) assert.equal(IsoDateTime.safeParse(good).success, true, good);
  });
});

describe('event-store positions from clients', () => {
  it('accepts "<xid>/<seq>" within the columns\' ranges only', () => {
    for (const good of ['0/0', '39784/2', '18446744073709551615/9223372036854775807']) assert.equal(isPosition(good), true, good);
    for (const bad of ['99999999999999999999/1', '18446744073709551616/1', '1/9223372036854775808', '-1/5', '1/2/3', '1/', '/', ' 1/2', '1/2\u0000', '1.5/2', '']) {
      assert.equal(isPosition(bad), false, bad);
    }
  });
});

describe('page cursors', () => {
  const schema = z.object({ updatedAt: IsoDateTime, id: Id });
  const secret = 'a'.repeat(32);
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof GraphQLError);
      return [error.extensions.code, error.extensions.field];
    }
    return null;
  };

  it('round-trips a cursor this API issued', () => {
    const value = { updatedAt: '2026-11-29T10:00:00.000Z', id: 'c-1' };
    assert.deepEqual(decodeCursor(secret, schema, encodeCursor(secret, value)), value);
    assert.equal(decodeCursor(secret, schema, null), null);
  });

  it('refuses hand-made, edited, foreign-key and ill-formed cursors as BAD_USER_INPUT', () => {
    const handMade = Buffer.from(JSON.stringify({ updatedAt: 'not a date', id: 'x' })).toString('base64url');
    const issued = encodeCursor(secret, { updatedAt: '2026-11-29T10:00:00.000Z', id: 'c-1' });
    const edited = `${Buffer.from(JSON.stringify({ updatedAt: '2026-11-29T10:00:00.000Z', id: 'c-2' })).toString('base64url')}.${issued.split('.')[1]}`;
    const signedGarbage = encodeCursor(secret, { updatedAt: 'not a date', id: 'x' });
    for (const cursor of [handMade, `${handMade}.AAAAAAAAAAAAAAAAAAAAAA`, edited, encodeCursor('b'.repeat(32), { updatedAt: '2026-11-29T10:00:00.000Z', id: 'c-1' }), signedGarbage, '.', 'x'.repeat(5000), '\u0000']) {
      assert.deepEqual(codeOf(() => decodeCursor(secret, schema, cursor, 'after')), ['BAD_USER_INPUT', 'after'], cursor.slice(0, 60));
    }
  });
});

describe('GraphQL document limits before parsing', () => {
  it('refuses nesting beyond the limit, whatever bracket nests', () => {
    assert.match(documentProblem(`query ${'{ a '.repeat(10_000)}${'}'.repeat(10_000)}`) ?? '', /nested deeper/);
    assert.match(documentProblem(`{ __schema { types { ${'ofType { '.repeat(2000)}name${' }'.repeat(2000)} } } }`) ?? '', /nested deeper/);
    assert.match(documentProblem(`{ a(b: ${'['.repeat(MAX_NESTING)}1${']'.repeat(MAX_NESTING)}) }`) ?? '', /nested deeper/);
  });

  it('does not count brackets inside strings, block strings and comments', () => {
    const inString = `{ conversations(search: "${'{'.repeat(500)}\\"${'['.repeat(500)}") { edges { cursor } } }`;
    const inBlock = `{ conversations(search: """${'{('.repeat(500)} \\""" still inside""") { edges { cursor } } }`;
    const inComment = `# ${'{'.repeat(500)}\n{ me { userId } }`;
    for (const doc of [inString, inBlock, inComment]) assert.equal(documentProblem(doc), null, doc.slice(0, 40));
  });

  it('lets the standard introspection query through', () => {
    assert.equal(documentProblem(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true })), null);
  });

  it('refuses a document over the size limit', () => {
    assert.match(documentProblem(`{ me { userId } } # ${'x'.repeat(300 * 1024)}`) ?? '', /longer than/);
  });
});

describe('GraphQL arguments', () => {
  const schema = buildSchema(`
    type Query { conversation(id: ID!, consistentWith: String): Int, auditLog(filter: Filter): Int }
    type Mutation { sendMessage(input: SendInput!): Int }
    input Filter { userId: ID, verdict: String }
    input SendInput { conversationId: ID, content: String!, params: Params }
    input Params { stop: [String!], maxTokens: Int }
  `);
  const field = (type: 'Query' | 'Mutation', name: string) => (type === 'Query' ? schema.getQueryType() : schema.getMutationType())!.getFields()[name] as GraphQLField<unknown, unknown>;

  it('names the argument path of a string that is not text or an ID that is not an id', () => {
    assert.equal(argumentsProblem(field('Query', 'conversation'), { id: 'a\u0000b' })?.field, 'id');
    assert.equal(argumentsProblem(field('Query', 'conversation'), { id: 'has space' })?.field, 'id');
    assert.equal(argumentsProblem(field('Query', 'conversation'), { id: 'x'.repeat(129) })?.field, 'id');
    assert.equal(argumentsProblem(field('Query', 'conversation'), { id: 'ok', consistentWith: '\ud800' })?.field, 'consistentWith');
    assert.equal(argumentsProblem(field('Query', 'auditLog'), { filter: { userId: 'a/b' } })?.field, 'filter.userId');
    assert.equal(argumentsProblem(field('Query', 'auditLog'), { filter: { verdict: 'x\u0000' } })?.field, 'filter.verdict');
    // inside `input` the path starts below it, as command errors name fields
    assert.equal(argumentsProblem(field('Mutation', 'sendMessage'), { input: { content: 'hi', params: { stop: ['ok', '\udc00'] } } })?.field, 'params.stop.1');
    assert.equal(argumentsProblem(field('Mutation', 'sendMessage'), { input: { content: 'hi\u0000' } })?.field, 'content');
  });

  it('accepts well-formed ids and any well-formed text', () => {
    assert.equal(argumentsProblem(field('Query', 'conversation'), { id: '8f30512b-bd43-43ef-8e03-29dabec9e1fb', consistentWith: null }), null);
    assert.equal(argumentsProblem(field('Mutation', 'sendMessage'), { input: { conversationId: 'c_1.x:y-z', content: '😀 {"a": 1}', params: { stop: ['\n'], maxTokens: 5 } } }), null);
  });
});

describe('OpenAI request bodies', () => {
  const base = { model: 'parley-tiny', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
  const refused = (body: unknown) => {
    try {
      toTurn(parseRequest(body));
    } catch (error) {
      assert.ok(error instanceof OpenAiError, String(error));
      return { status: error.status, ...error.body().error };
    }
    return null;
  };

  it('refuses NUL and unpaired surrogates as a 400 naming the parameter', () => {
    assert.deepEqual(refused({ ...base, stop: ['\u0000'] }), { status: 400, message: 'stop.[0]: must not contain NUL characters', type: 'invalid_request_error', param: 'stop.[0]', code: null });
    assert.equal(refused({ ...base, stop: '\ud800' })?.param, 'stop');
    assert.equal(refused({ ...base, user: 'a\u0000' })?.param, 'user');
    assert.equal(refused({ ...base, model: 'parley-tiny\u0000' })?.param, 'model');
    assert.equal(refused({ ...base, messages: [{ role: 'user', content: 'hi\udc00' }] })?.param, 'messages.[0].content');
    assert.equal(refused({ ...base, messages: [{ role: 'system', content: 'x\u0000' }, { role: 'user', content: 'hi' }] })?.param, 'messages.[0].content');
    assert.equal(refused({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'a\ud800' }] }] })?.param, 'messages.[0].content.[0].text');
  });

  it('still takes ordinary requests', () => {
    assert.equal(refused(base), null);
    assert.equal(refused({ ...base, stop: ['\n\n'], user: 'u-1', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi 😀' }] }] }), null);
  });
});
