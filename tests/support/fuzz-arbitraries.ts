// Hostile requests for Parley's public surfaces (GraphQL queries, mutations and SSE subscriptions at
// /graphql and /graphql/stream; /v1 chat completions, models, events and audit export), generated
// with fast-check. Used by the CI fuzz test (tests/e2e/fuzz.test.ts, a few hundred) and by the
// chaos suite (bench/chaos, 10,000): `runFuzz(baseUrl, tokens, numRuns)` sends them and reports
// what a client must never see — a 5xx, a GraphQL error with code INTERNAL, a request left hanging.
//
// Every generated value is a plain request: { method, path, headers, body?, surface, mayStayOpen? }.
// Authorization is not in `headers` (the runner rotates identities), except for requests that
// are about the header itself. `mayStayOpen` marks live subscriptions (eventAppended): reading them
// for a while and closing is a pass; every other response must end.
import fc from 'fast-check';

export { runFuzz, collectPools, normalTurn, sendRawTarget, type FuzzOptions, type FuzzReport, type FuzzFailure } from './fuzz-runner.ts';

export type FuzzRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  surface: 'graphql' | 'v1' | 'other';
  mayStayOpen?: boolean;
  /** a short name of what was generated, for reports */
  label: string;
};

/** Real objects to aim at, so well-formed ids of someone's data are tried too (collectPools). */
export type FuzzPools = { conversationIds: string[]; generationIds: string[]; positions: string[]; cursors: string[]; safetyEventIds: string[] };
export const EMPTY_POOLS: FuzzPools = { conversationIds: [], generationIds: [], positions: [], cursors: [], safetyEventIds: [] };

// ---- values ----------------------------------------------------------------------------------

const NASTY = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\udc00\ud800', '\ud83d', '😀', '\u202e\u0645', 'e\u0301', '\ufeff', '\uffff',
  "' OR 1=1 --", '"; drop table parley_events; --', '%00', '%', '%zz', '%E0%A4%A', '../../etc/passwd', 'conversation-x', 'generation-',
  '${jndi:ldap://x/a}', '<script>alert(1)</script>', '{{7*7}}', '\\', '\\u0000', '"', '\n\r\t', 'null', 'undefined', 'NaN', '-1', '0',
  '1e309', '9'.repeat(40), 'a'.repeat(129), 'x'.repeat(60_000), '🙂'.repeat(5000), 'parley-tiny', 'parley-tiny\u0000', 'not-served',
];

/** Any string: arbitrary code units (lone surrogates and NUL included), a known nasty one, or a long one. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 8 })).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 60_000 }).map((n) => 'x'.repeat(n)) },
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(), fc.constantFrom(0, -1, -0, 1, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, 0.5, 3.7),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, sometimes nested deeper than any schema. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null, [], {}, [null], { __proto__: 1 }, { constructor: { prototype: 1 } }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  // (deeper nesting is built as JSON text elsewhere: JSON.stringify itself would overflow the stack)
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 1000 }).map((n) => nestedArray(n)) },
);

function nestedArray(depth: number): unknown {
  let v: unknown = 'deep';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const uuidLike = fc.uuid();
export const hostileId = (pool: string[]): fc.Arbitrary<string> => fc.oneof(
  ...(pool.length ? [{ weight: 3, arbitrary: fc.constantFrom(...pool) }] : []),
  { weight: 2, arbitrary: uuidLike },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/) },
  { weight: 3, arbitrary: hostileString },
);

export const hostilePosition = (pool: string[]): fc.Arbitrary<string> => fc.oneof(
  ...(pool.length ? [{ weight: 2, arbitrary: fc.constantFrom(...pool) }] : []),
  { weight: 2, arbitrary: fc.tuple(fc.bigInt(0n, 2n ** 70n), fc.bigInt(0n, 2n ** 70n)).map(([a, b]) => `${a}/${b}`) },
  { weight: 1, arbitrary: fc.constantFrom('0/0', '99999999999999999999/1', '18446744073709551615/9223372036854775807', '18446744073709551616/1', '1/9223372036854775808', '-1/5', '1/2/3', '/', '1/', '01/01', '1.5/2', ' 1/2', '1/2\u0000') },
  { weight: 2, arbitrary: hostileString },
);

// Cursors: hand-made (the documented attack: base64 of {"updatedAt":"not a date","id":"x"}), real
// ones edited, or junk.
export const hostileCursor = (pool: string[]): fc.Arbitrary<string> => fc.oneof(
  ...(pool.length ? [
    { weight: 1, arbitrary: fc.constantFrom(...pool) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...pool), fc.nat(), fc.constantFrom('A', '_', '.', '=')).map(([c, i, ch]) => { const k = i % c.length; return c.slice(0, k) + ch + c.slice(k + 1); }) },
  ] : []),
  { weight: 3, arbitrary: fc.record({ updatedAt: fc.oneof(hostileString, fc.constantFrom('not a date', '2024-02-31T00:00:00Z', '0000-01-01T00:00:00Z', new Date().toISOString())), id: fc.oneof(hostileString, fc.constant('x')) })
    .chain((v) => fc.constantFrom(b64(v), `${b64(v)}.${b64('sig')}`, `${b64(v)}.AAAAAAAAAAAAAAAAAAAAAA`)) },
  { weight: 1, arbitrary: fc.record({ occurredAt: hostileValue, seq: hostileValue }).map((v) => b64(v)) },
  { weight: 2, arbitrary: hostileString },
);

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A value for a GraphQL variable of the given kind: mostly of the right type but hostile, sometimes any type. */
function variable(kind: string, pools: FuzzPools): fc.Arbitrary<unknown> {
  const typed: Record<string, fc.Arbitrary<unknown>> = {
    conversationId: hostileId(pools.conversationIds),
    generationId: hostileId(pools.generationIds),
    safetyEventId: hostileId(pools.safetyEventIds),
    id: hostileId([...pools.conversationIds, ...pools.generationIds]),
    position: hostilePosition(pools.positions),
    cursor: hostileCursor(pools.cursors),
    string: hostileString,
    int: hostileNumber,
    float: hostileNumber,
    date: fc.oneof(hostileString, fc.constantFrom('2026-11-29', '2024-02-30', '0000-01-01', '2026-11-29T10:00:00+23:59', '2026-11-29T10:00:00Z', '9999-12-31')),
    types: fc.oneof(fc.array(fc.oneof(hostileString, fc.constantFrom('MessageSubmitted', 'GenerationRequested', 'Nope')), { maxLength: 4 }), hostileString),
    stop: fc.oneof(fc.array(hostileString, { maxLength: 6 }), hostileString),
    rating: fc.oneof(fc.constantFrom('UP', 'DOWN', 'up', 'SIDEWAYS'), hostileString),
    outcome: fc.oneof(fc.constantFrom('upheld', 'overturned', 'UPHELD'), hostileString),
  };
  const base = typed[kind] ?? hostileString;
  return fc.oneof({ weight: 6, arbitrary: base }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: hostileValue });
}

// ---- GraphQL -----------------------------------------------------------------------------------

type Operation = { name: string; query: string; vars: Record<string, string>; subscription?: 'finite' | 'live' };

const CONVERSATION_FIELDS = 'id title systemPrompt model messageCount createdAt updatedAt messages { id role content status generationId feedback { rating comment } safetyEventId safetyCategory policyVersion appeal { id status note } }';
const CHUNK_FIELDS = 'index delta done finishReason attempt reset category error';

const OPERATIONS: Operation[] = [
  { name: 'conversation', query: `query($id: ID!, $c: String) { conversation(id: $id, consistentWith: $c) { ${CONVERSATION_FIELDS} } }`, vars: { id: 'conversationId', c: 'position' } },
  { name: 'generation', query: 'query($id: ID!) { generation(id: $id) { id conversationId status content finishReason error usage { promptTokens completionTokens } } }', vars: { id: 'generationId' } },
  { name: 'conversations', query: 'query($f: Int, $a: String, $s: String, $c: String) { conversations(first: $f, after: $a, search: $s, consistentWith: $c) { edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }', vars: { f: 'int', a: 'cursor', s: 'string', c: 'position' } },
  { name: 'auditLog', query: 'query($u: ID, $t: ID, $v: String, $cat: String, $e: String, $from: String, $to: String, $f: Int, $a: String) { auditLog(filter: {userId: $u, tenantId: $t, verdict: $v, category: $cat, eventType: $e, from: $from, to: $to}, first: $f, after: $a) { edges { cursor node { eventId eventType } } pageInfo { endCursor } } }', vars: { u: 'id', t: 'id', v: 'string', cat: 'string', e: 'string', from: 'date', to: 'date', f: 'int', a: 'cursor' } },
  { name: 'usage', query: 'query($from: String, $to: String, $u: ID, $c: String) { usage(from: $from, to: $to, userId: $u, consistentWith: $c) { day requests } }', vars: { from: 'date', to: 'date', u: 'id', c: 'position' } },
  { name: 'events', query: 'query($a: String, $t: [String!], $f: Int) { events(after: $a, types: $t, first: $f) { edges { cursor node { type position } } pageInfo { hasNextPage } } }', vars: { a: 'position', t: 'types', f: 'int' } },
  { name: 'me', query: '{ me { userId tenantId roles } }', vars: {} },
  { name: 'startConversation', query: `mutation($t: String, $p: String, $m: String) { startConversation(input: {title: $t, systemPrompt: $p, model: $m}) { conversation { id model } position } }`, vars: { t: 'string', p: 'string', m: 'string' } },
  { name: 'sendMessage', query: 'mutation($cid: ID, $content: String!, $parent: ID, $temp: Float, $topP: Float, $topK: Int, $max: Int, $seed: Int, $stop: [String!], $sys: String, $title: String) { sendMessage(input: {conversationId: $cid, content: $content, parentMessageId: $parent, params: {temperature: $temp, topP: $topP, topK: $topK, maxTokens: $max, seed: $seed, stop: $stop}, systemPrompt: $sys, title: $title}) { generation { id } position } }', vars: { cid: 'conversationId', content: 'string', parent: 'id', temp: 'float', topP: 'float', topK: 'int', max: 'int', seed: 'int', stop: 'stop', sys: 'string', title: 'string' } },
  { name: 'regenerate', query: 'mutation($id: ID!) { regenerate(generationId: $id) { generation { id } position } }', vars: { id: 'generationId' } },
  { name: 'cancelGeneration', query: 'mutation($id: ID!) { cancelGeneration(id: $id) { generation { id } position } }', vars: { id: 'generationId' } },
  { name: 'giveFeedback', query: 'mutation($id: ID!, $r: Rating!, $c: String) { giveFeedback(input: {generationId: $id, rating: $r, comment: $c}) { position } }', vars: { id: 'generationId', r: 'rating', c: 'string' } },
  { name: 'renameConversation', query: 'mutation($id: ID!, $t: String!) { renameConversation(id: $id, title: $t) { conversation { id title } position } }', vars: { id: 'conversationId', t: 'string' } },
  { name: 'deleteConversation', query: 'mutation($id: ID!) { deleteConversation(id: $id) { id deleted position } }', vars: { id: 'conversationId' } },
  { name: 'fileAppeal', query: 'mutation($id: ID!, $r: String!) { fileAppeal(safetyEventId: $id, reason: $r) { appealId position } }', vars: { id: 'safetyEventId', r: 'string' } },
  { name: 'resolveAppeal', query: 'mutation($id: ID!, $o: AppealOutcome!, $n: String) { resolveAppeal(appealId: $id, outcome: $o, note: $n) { appealId position } }', vars: { id: 'id', o: 'outcome', n: 'string' } },
  { name: 'exportUserData', query: 'mutation($u: ID!, $t: ID) { exportUserData(userId: $u, tenantId: $t) { eventId counts { kind count } } }', vars: { u: 'id', t: 'id' } },
  { name: 'appeals', query: 'query($s: String, $f: Int, $a: String, $c: String) { appeals(status: $s, first: $f, after: $a, consistentWith: $c) { edges { cursor node { id status reason } } pageInfo { endCursor } } }', vars: { s: 'string', f: 'int', a: 'cursor', c: 'position' } },
  { name: 'complianceStats', query: 'query($from: String, $to: String) { complianceStats(from: $from, to: $to) { blockRatePerTenant { tenantId rate } thumbsUpRatePerDay { day rate } } }', vars: { from: 'date', to: 'date' } },
  { name: 'generationStream', query: `subscription($id: ID!, $a: Int, $at: Int) { generationStream(id: $id, afterIndex: $a, attempt: $at) { ${CHUNK_FIELDS} } }`, vars: { id: 'generationId', a: 'int', at: 'int' }, subscription: 'finite' },
  { name: 'eventAppended', query: 'subscription($a: String, $t: [String!]) { eventAppended(after: $a, types: $t) { type position } }', vars: { a: 'position', t: 'types' }, subscription: 'live' },
];

const json = { 'content-type': 'application/json' };

function operationRequest(op: Operation, pools: FuzzPools): fc.Arbitrary<FuzzRequest> {
  const vars = Object.fromEntries(Object.entries(op.vars).map(([k, kind]) => [k, fc.option(variable(kind, pools), { nil: undefined, freq: 6 })]));
  return fc.tuple(fc.record(vars), fc.constantFrom('/graphql', '/graphql', '/graphql/stream'), fc.boolean()).map(([variables, path, sse]) => {
    const subscribe = op.subscription !== undefined;
    // Subscriptions go over SSE (Yoga's at /graphql, graphql-sse's distinct mode at /graphql/stream).
    const headers: Record<string, string> = { ...json, ...(subscribe || sse ? { accept: 'text/event-stream' } : {}) };
    return {
      method: 'POST', path: subscribe ? path : '/graphql', headers, body: JSON.stringify({ query: op.query, variables }),
      surface: 'graphql', mayStayOpen: op.subscription === 'live', label: `graphql ${op.name}`,
    } satisfies FuzzRequest;
  });
}

/** A GraphQL string literal; JSON's escaping is GraphQL's (lone surrogates become \\uD800 escapes). */
const literal = (s: string) => JSON.stringify(s);

// Documents that are themselves the attack: deep nesting, huge or broken documents, hostile literals.
const hostileDocument: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 10, max: 20_000 }).map((n) => `query ${'{ a '.repeat(n)}${'}'.repeat(n)}`),
  fc.integer({ min: 10, max: 3000 }).map((n) => `{ __schema { types { ${'ofType { '.repeat(n)}name${' }'.repeat(n)} } } }`),
  fc.integer({ min: 10, max: 5000 }).map((n) => `{ conversations(search: ${'['.repeat(n)}"x"${']'.repeat(n)}) { edges { cursor } } }`),
  fc.integer({ min: 100, max: 5000 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { userId }`).join(' ')} }`),
  fc.integer({ min: 2, max: 500 }).map((n) => `query { ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { me { userId } ...F${(i + 1) % n} }`).join(' ')}`),
  fc.tuple(hostileString, fc.constantFrom('conversation(id: %s) { id }', 'conversations(search: %s) { edges { cursor } }', 'conversations(after: %s) { edges { cursor } }', 'events(after: %s) { edges { cursor } }', 'generation(id: %s) { id }'))
    .map(([s, f]) => `{ ${f.replace('%s', literal(s))} }`),
  fc.tuple(hostileString, fc.constantFrom('startConversation(input: {model: %s}) { position }', 'sendMessage(input: {content: %s, params: {maxTokens: 2}}) { position }', 'renameConversation(id: "x", title: %s) { position }', 'fileAppeal(safetyEventId: %s, reason: "r") { position }'))
    .map(([s, f]) => `mutation { ${f.replace('%s', literal(s))} }`),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', '{', '}', 'query', 'subscription { me { userId } }', 'mutation { }', '{ __typename }', '{ me { userId } } { me { userId } }', 'query A { me { userId } } query A { me { userId } }', '{ me @skip(if: true) { userId } }', `{ me { ${'userId '.repeat(30_000)}} }`),
);

const graphqlDocument: fc.Arbitrary<FuzzRequest> = fc.tuple(hostileDocument, fc.option(hostileValue, { nil: undefined }), fc.boolean()).map(([query, variables, sse]) => ({
  method: 'POST', path: '/graphql', headers: { ...json, ...(sse ? { accept: 'text/event-stream' } : {}) },
  body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }), surface: 'graphql', label: 'graphql document',
}));

// The HTTP envelope itself: bodies that are not GraphQL requests.
const graphqlEnvelope: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.tuple(hostileValue, hostileValue, hostileValue).map(([query, variables, operationName]) => JSON.stringify({ query, variables, operationName })),
  fc.string({ maxLength: 200 }),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => `{"query":"{ me { userId } }","variables":{"x":${'['.repeat(n)}${']'.repeat(n)}}}`),
  fc.constant('[{"query":"{ me { userId } }"},{"query":"{ me { userId } }"}]'),
  fc.constant('{"query":"{ me { userId } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "x"}}}'),
).chain((body) => fc.constantFrom<[string, Record<string, string>]>(['POST', json], ['POST', { 'content-type': 'text/plain' }], ['POST', { 'content-type': 'application/graphql' }], ['PUT', json])
  .map(([method, headers]) => ({ method, path: '/graphql', headers, body, surface: 'graphql' as const, label: 'graphql envelope' })));

const graphqlGet: fc.Arbitrary<FuzzRequest> = fc.tuple(fc.oneof(hostileDocument, fc.constant('{ me { userId } }')), fc.option(hostileValue, { nil: undefined }))
  .map(([query, variables]) => ({
    method: 'GET', path: `/graphql?query=${pct(query)}${variables === undefined ? '' : `&variables=${pct(JSON.stringify(variables))}`}`, headers: {}, surface: 'graphql', label: 'graphql GET',
  }));

// ---- /v1 ---------------------------------------------------------------------------------------

/** Percent-encodes any string as its UTF-8 bytes (a lone surrogate becomes U+FFFD's, as a browser sends it). */
export const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');

/** A header value fetch can send (Latin-1, no CR/LF/NUL): hostile, but on the wire. */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.constantFrom('', ' ', '../x', 'a'.repeat(200), "' or 1=1", '%00', 'conversation-x', '\xff\xfe'),
);

const chatBase = { model: 'parley-tiny', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] };
const CHAT_KEYS = ['model', 'messages', 'stream', 'stream_options', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'seed', 'user', 'n',
  'frequency_penalty', 'presence_penalty', 'logprobs', 'top_logprobs', 'logit_bias', 'tools', 'functions', 'tool_choice', 'response_format', '__proto__', 'x'];

const hostileMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ role: fc.oneof(fc.constantFrom('user', 'system', 'developer', 'assistant', 'tool'), hostileString), content: hostileValue }),
  fc.record({ role: fc.constant('user'), content: fc.array(fc.oneof(fc.record({ type: fc.constant('text'), text: hostileValue }), fc.record({ type: hostileString }), hostileValue), { maxLength: 3 }) }),
  fc.record({ role: fc.constant('user'), content: hostileString, name: hostileValue }),
  hostileValue,
);

const chatBody: fc.Arbitrary<string> = fc.oneof(
  // the valid base with one key made hostile (most are refused; a few are served, briefly)
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...CHAT_KEYS), hostileValue).map(([k, v]) => JSON.stringify({ ...chatBase, [k]: v })) },
  { weight: 3, arbitrary: fc.array(hostileMessage, { minLength: 0, maxLength: 4 }).map((messages) => JSON.stringify({ ...chatBase, messages })) },
  { weight: 1, arbitrary: fc.tuple(fc.array(hostileString, { maxLength: 5 }), fc.boolean()).map(([stop, stream]) => JSON.stringify({ ...chatBase, stop, stream })) },
  { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 100 }), fc.constantFrom('', '{', '{"model":', 'null', '[]', '{"model":"parley-tiny","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":1')) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 200_000 }).map((n) => `{"model":"parley-tiny","max_tokens":1,"messages":${'['.repeat(n)}${']'.repeat(n)}}`) },
);

const chatCompletion: fc.Arbitrary<FuzzRequest> = fc.tuple(chatBody, fc.option(headerValue, { nil: undefined }), fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE'), fc.constantFrom('application/json', 'application/json', 'text/plain', ''))
  .map(([body, conversation, method, type]) => ({
    method, path: '/v1/chat/completions',
    headers: { ...(type ? { 'content-type': type } : {}), ...(conversation === undefined ? {} : { 'x-parley-conversation': conversation }) },
    body: method === 'GET' ? undefined : body, surface: 'v1', label: 'v1 chat completions',
  }));

const query = (params: [string, string | undefined][]) => params.filter(([, v]) => v !== undefined).map(([k, v]) => `${pct(k)}=${pct(v!)}`).join('&');

const v1Get = (pools: FuzzPools): fc.Arbitrary<FuzzRequest> => fc.oneof(
  fc.constant({ method: 'GET', path: '/v1/models', headers: {}, surface: 'v1' as const, label: 'v1 models' }),
  fc.oneof(hostileString.map(pct), fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', 'parley-tiny', 'parley-tiny%00', '..%2F..%2Fetc'))
    .map((m) => ({ method: 'GET', path: `/v1/models/${m}`, headers: {}, surface: 'v1' as const, label: 'v1 model' })),
  fc.tuple(fc.option(hostilePosition(pools.positions), { nil: undefined }), fc.option(fc.oneof(hostileString, fc.constantFrom('MessageSubmitted', 'A,B')), { nil: undefined }),
    fc.option(fc.oneof(fc.integer({ min: 1, max: 20 }).map(String), hostileString), { nil: undefined }), fc.option(hostileString, { nil: undefined }))
    .map(([after, types, limit, extra]) => ({
      method: 'GET', path: `/v1/events?${query([['after', after], ['types', types], ['limit', limit ?? '20'], ...(extra === undefined ? [] : [[extra, 'x'] as [string, string]])])}`,
      headers: {}, surface: 'v1' as const, label: 'v1 events',
    })),
  fc.tuple(fc.option(fc.oneof(fc.constantFrom('jsonl', 'csv'), hostileString), { nil: undefined }), fc.option(hostileId([]), { nil: undefined }), fc.option(hostileId([]), { nil: undefined }),
    fc.option(hostileString, { nil: undefined }), fc.option(hostileString, { nil: undefined }), fc.option(variable('date', pools).map(String), { nil: undefined }), fc.option(variable('date', pools).map(String), { nil: undefined }))
    .map(([format, userId, tenantId, verdict, category, from, to]) => ({
      method: 'GET', path: `/v1/audit/export?${query([['format', format], ['userId', userId], ['tenantId', tenantId], ['verdict', verdict], ['category', category], ['from', from], ['to', to]])}`,
      headers: {}, surface: 'v1' as const, label: 'v1 audit export',
    })),
  fc.tuple(fc.oneof(hostileId([]).map(pct), fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', '..%2F..', 'alice')), fc.option(hostileId([]), { nil: undefined }))
    .map(([id, tenantId]) => ({
      method: 'GET', path: `/v1/users/${id}/export${tenantId === undefined ? '' : `?${query([['tenantId', tenantId]])}`}`,
      headers: {}, surface: 'v1' as const, label: 'v1 user export',
    })),
  fc.tuple(fc.constantFrom('/v1/events', '/v1/models', '/v1/audit/export', '/v1/users/alice/export', '/v1', '/v1/nope', '/graphql/stream', '/auth/dev-login', '/healthz', '/readyz', '/metrics'), fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), hostileValue)
    .map(([path, method, body]) => ({ method, path, headers: json, body: method === 'HEAD' ? undefined : JSON.stringify(body), surface: path.startsWith('/v1') ? 'v1' as const : 'other' as const, label: `${method} ${path}` })),
);

// The Authorization header itself: forged, truncated, wrong scheme (the runner leaves these alone).
const authRequest: fc.Arbitrary<FuzzRequest> = fc.tuple(
  fc.oneof(headerValue, fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'bearer x')),
  fc.constantFrom('/graphql', '/v1/models', '/v1/events', '/v1/audit/export', '/v1/chat/completions'),
).map(([auth, path]) => ({
  method: path === '/graphql' || path === '/v1/chat/completions' ? 'POST' : 'GET', path, headers: { ...json, authorization: auth },
  body: path === '/graphql' ? JSON.stringify({ query: '{ me { userId } }' }) : path === '/v1/chat/completions' ? JSON.stringify(chatBase) : undefined,
  surface: path === '/graphql' ? 'graphql' : 'v1', label: `auth ${path}`,
}));

// ---- the mix -----------------------------------------------------------------------------------

/** Every kind of hostile request, weighted towards the GraphQL operations. Pools are optional. */
export function fuzzRequests(pools: FuzzPools = EMPTY_POOLS): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.oneof(...OPERATIONS.map((op) => operationRequest(op, pools))) },
    { weight: 3, arbitrary: graphqlDocument },
    { weight: 1, arbitrary: graphqlEnvelope },
    { weight: 1, arbitrary: graphqlGet },
    { weight: 3, arbitrary: chatCompletion },
    { weight: 3, arbitrary: v1Get(pools) },
    { weight: 1, arbitrary: authRequest },
  );
}

/**
 * Request targets as a raw HTTP/1.1 request line carries them ("GET <target> HTTP/1.1"), including
 * ones fetch would normalise away ("//", "//@", "///x"): for sendRawTarget in fuzz-runner.ts.
 */
export const hostileTarget: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('//', '///', '//@', '//a:b', '//[', '/%', '/%zz', '/%00', '*', '/graphql?query=%E0%A4%A', '//graphql', '/v1//models', '/v1/models/%E0%A4%A', '/v1/events?after=%FF'),
  fc.array(fc.constantFrom('/', '/', '@', ':', '[', ']', '%', '?', '#', '.', 'v1', 'graphql', 'models', 'events', '%2F', '%00', 'x'), { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')).filter((t) => !/\s/.test(t)),
);
