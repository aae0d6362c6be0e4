// Sends the hostile requests of fuzz-arbitraries.ts to a running Parley and reports what no client
// may ever see: an HTTP 5xx, a GraphQL (or OpenAI, or NDJSON) error with code INTERNAL, a response
// that does not end within the timeout (a hang), or a connection dropped without an answer.
import fc from 'fast-check';
import { EMPTY_POOLS, fuzzRequests, type FuzzPools, type FuzzRequest } from './fuzz-arbitraries.ts';

export type FuzzOptions = {
  /** fast-check seed (default: random; it is in the report, so a run can be repeated) */
  seed?: number;
  /** a request that has not ended after this long is a hang (default 30 s) */
  timeoutMs?: number;
  /** a live subscription (mayStayOpen) is read this long, then closed (default 2 s) */
  openReadMs?: number;
  /** requests in flight at once (default 4) */
  concurrency?: number;
  /** real ids to aim at (collectPools); without them ids are made up */
  pools?: FuzzPools;
  onProgress?: (done: number, total: number) => void;
};

export type FuzzFailure = { kind: '5xx' | 'INTERNAL' | 'hang' | 'transport'; label: string; status: number | null; request: string; detail: string };
export type FuzzReport = {
  seed: number; requests: number; ms: number;
  byStatus: Record<string, number>; byLabel: Record<string, number>; failures: FuzzFailure[];
};

type Outcome = { status: number | null; failure: FuzzFailure | null };

/**
 * Sends `numRuns` generated requests to `baseUrl`, rotating over `tokens` (null: no Authorization
 * header), and collects every failure (it does not stop at the first, so a run gives figures).
 */
export async function runFuzz(baseUrl: string, tokens: readonly (string | null)[] | Record<string, string | null>, numRuns: number, options: FuzzOptions = {}): Promise<FuzzReport> {
  const identities = Array.isArray(tokens) ? [...tokens] : Object.values(tokens);
  if (identities.length === 0) identities.push(null);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const requests = fc.sample(fuzzRequests(options.pools ?? EMPTY_POOLS), { numRuns, seed });
  const started = performance.now();
  const report: FuzzReport = { seed, requests: requests.length, ms: 0, byStatus: {}, byLabel: {}, failures: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < requests.length) {
      const i = next++;
      const req = requests[i]!;
      const outcome = await send(baseUrl, req, identities[i % identities.length]!, options);
      const key = String(outcome.status ?? outcome.failure?.kind ?? 'none');
      report.byStatus[key] = (report.byStatus[key] ?? 0) + 1;
      report.byLabel[req.label] = (report.byLabel[req.label] ?? 0) + 1;
      if (outcome.failure) report.failures.push(outcome.failure);
      options.onProgress?.(++done, requests.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  report.ms = Math.round(performance.now() - started);
  return report;
}

export function describeRequest(req: FuzzRequest): string {
  const body = req.body === undefined ? '' : ` ${req.body.length > 300 ? `${req.body.slice(0, 300)}… (${req.body.length} chars)` : req.body}`;
  const path = req.path.length > 200 ? `${req.path.slice(0, 200)}… (${req.path.length} chars)` : req.path;
  return `${req.method} ${path}${body}`;
}

async function send(baseUrl: string, req: FuzzRequest, token: string | null, options: FuzzOptions): Promise<Outcome> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const ctl = new AbortController();
  let hung = false;
  const timer = setTimeout(() => { hung = true; ctl.abort(); }, timeoutMs);
  const fail = (kind: FuzzFailure['kind'], status: number | null, detail: string): Outcome =>
    ({ status, failure: { kind, label: req.label, status, request: describeRequest(req), detail: detail.slice(0, 500) } });
  let status: number | null = null;
  try {
    const hasAuth = Object.keys(req.headers).some((h) => h.toLowerCase() === 'authorization');
    const headers = { ...req.headers, ...(!hasAuth && token ? { authorization: `Bearer ${token}` } : {}) };
    const res = await fetch(baseUrl + req.path, { method: req.method, headers, body: req.body, signal: ctl.signal });
    status = res.status;
    const text = await readBody(res, req.mayStayOpen ? (options.openReadMs ?? 2000) : null, ctl);
    if (res.status >= 500) return fail('5xx', res.status, text);
    const internal = internalError(text);
    if (internal) return fail('INTERNAL', res.status, internal);
    return { status: res.status, failure: null };
  } catch (error) {
    if (hung) return fail('hang', status, `no complete answer within ${timeoutMs} ms`);
    const e = error as Error & { cause?: { code?: string; message?: string } };
    return fail('transport', status, `${e.message}${e.cause ? `: ${e.cause.code ?? e.cause.message}` : ''}`);
  } finally {
    clearTimeout(timer);
  }
}

// The whole body; a live subscription only for `openFor` ms (then closed: staying open is its job).
async function readBody(res: Response, openFor: number | null, ctl: AbortController): Promise<string> {
  if (openFor === null || !res.body) return res.text();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const until = Date.now() + openFor;
  try {
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([reader.read(), new Promise<null>((r) => { timer = setTimeout(() => r(null), left); })]);
      clearTimeout(timer);
      if (!chunk || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
    if (!ctl.signal.aborted) ctl.abort();
  }
  return text;
}

// An INTERNAL error in any of the shapes Parley answers with: a GraphQL result (JSON or SSE `data:`
// frames), an OpenAI error (type server_error), an {error: {code}} body or NDJSON line.
export function internalError(text: string): string | null {
  const candidates: string[] = [];
  const trimmed = text.trim();
  if (trimmed.startsWith('{') && !trimmed.includes('\n')) candidates.push(trimmed);
  else {
    for (const line of text.split('\n')) {
      const l = line.startsWith('data:') ? line.slice(5).trim() : line.trim();
      if (l.startsWith('{')) candidates.push(l);
    }
  }
  for (const c of candidates) {
    let value: any;
    try {
      value = JSON.parse(c);
    } catch {
      continue;
    }
    const errors = [...(Array.isArray(value?.errors) ? value.errors : []), ...(Array.isArray(value?.payload?.errors) ? value.payload.errors : [])];
    const bad = errors.find((e: any) => e?.extensions?.code === 'INTERNAL' || e?.extensions?.code === 'INTERNAL_SERVER_ERROR');
    if (bad) return JSON.stringify(bad);
    if (value?.error && (value.error.code === 'INTERNAL' || value.error.type === 'server_error')) return JSON.stringify(value.error);
  }
  return null;
}

// ---- fixtures and the after-check ------------------------------------------------------------

type Gql = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };

async function gql(baseUrl: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Gql> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(60_000),
  });
  return (await res.json()) as Gql;
}

/** Follows generationStream over SSE until the generation ends; its text and finish reason. */
export async function followGeneration(baseUrl: string, token: string, id: string, timeoutMs = 120_000): Promise<{ text: string; finishReason: string | null }> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'subscription($id: ID!) { generationStream(id: $id) { delta done reset finishReason } }', variables: { id } }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.text(); // the stream ends when the generation does
  let text = '';
  let finishReason: string | null = null;
  for (const line of body.split('\n')) {
    if (!line.startsWith('data:') || line.length <= 6) continue;
    const frame = JSON.parse(line.slice(5)) as Gql;
    if (frame.errors) throw new Error(`generationStream: ${JSON.stringify(frame.errors)}`);
    const c = frame.data?.generationStream;
    if (!c) continue;
    text = c.reset ? c.delta : text + c.delta;
    if (c.done) finishReason = c.finishReason;
  }
  return { text, finishReason };
}

/** One ordinary turn: send a message, follow its answer to the end. The server's health after a fuzz. */
export async function normalTurn(baseUrl: string, token: string, content = 'Hello! What is 2 + 2?'): Promise<{ conversationId: string; generationId: string; position: string; text: string; finishReason: string | null }> {
  const sent = await gql(baseUrl, token, 'mutation($c: String!) { sendMessage(input: {content: $c, params: {maxTokens: 8}}) { conversation { id } generation { id } position } }', { c: content });
  if (sent.errors) throw new Error(`sendMessage: ${JSON.stringify(sent.errors)}`);
  const { conversation, generation, position } = sent.data.sendMessage;
  const answer = await followGeneration(baseUrl, token, generation.id);
  return { conversationId: conversation.id, generationId: generation.id, position, ...answer };
}

/** Real ids, positions and cursors of `token`'s user (two finished turns), for the arbitraries to aim at. */
export async function collectPools(baseUrl: string, token: string): Promise<FuzzPools> {
  const a = await normalTurn(baseUrl, token, 'fuzz fixture one');
  const b = await normalTurn(baseUrl, token, 'fuzz fixture two');
  const list = await gql(baseUrl, token, 'query($p: String) { conversations(first: 1, consistentWith: $p) { pageInfo { endCursor } } }', { p: b.position });
  const cursor = list.data?.conversations?.pageInfo?.endCursor;
  return {
    conversationIds: [a.conversationId, b.conversationId],
    generationIds: [a.generationId, b.generationId],
    positions: [a.position, b.position],
    cursors: cursor ? [cursor] : [],
    safetyEventIds: [],
  };
}

/** One raw HTTP/1.1 request with this exact target (fetch would normalise it); its status, or the failure. */
export async function sendRawTarget(baseUrl: string, method: string, target: string, timeoutMs = 10_000): Promise<{ status: number | null; failure: string | null }> {
  const { hostname, port } = new URL(baseUrl);
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    let out = '';
    const socket = connect(Number(port), hostname, () => socket.write(`${method} ${target} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`));
    const timer = setTimeout(() => { socket.destroy(); resolve({ status: null, failure: `hang: no answer within ${timeoutMs} ms` }); }, timeoutMs);
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? NaN);
      resolve(Number.isNaN(status) ? { status: null, failure: `no HTTP answer: ${JSON.stringify(out.slice(0, 100))}` } : { status, failure: status >= 500 ? out.slice(0, 300) : null });
    });
    socket.on('error', (e) => { clearTimeout(timer); resolve({ status: null, failure: e.message }); });
  });
}
