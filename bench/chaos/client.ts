// What the chaos scenarios do as clients: sign tokens, send turns over GraphQL, follow answers with
// the official graphql-sse client, and keep a steady load going while something is being killed.
import { createClient } from 'graphql-sse';
import { SignJWT } from 'jose';
import { sleep } from './cluster.ts';

export type Who = { user: string; tenant: string; roles?: string[]; tier?: string };

/** A JWT as `parley token` makes it, plus the quota tier claim (premium: the load is ours, not a quota test). */
export function tokenFor(secret: string, who: Who): Promise<string> {
  return new SignJWT({ tenant: who.tenant, roles: who.roles ?? ['user'], tier: who.tier ?? 'premium' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(who.user)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

export type GqlOutcome = { status: number | null; data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[]; transportError?: string; ms: number };

/** One GraphQL POST; never throws: a reset connection or a timeout is an outcome too. */
export async function gql(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<GqlOutcome> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: any = {};
    try { body = JSON.parse(text); } catch { body = { errors: [{ message: `non-JSON body: ${text.slice(0, 200)}` }] }; }
    return { status: res.status, data: body.data, errors: body.errors, ms: performance.now() - t0 };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { status: null, transportError: err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.message), ms: performance.now() - t0 };
  }
}

export const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } generation { id } position } }`;
export const SEND_LEAN = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } position } }`;

export type SendResult = { content: string; conversationId: string | null; generationId: string | null; code: string | null; message?: string; at: number; ms: number };

/** sendMessage; `code` is null when the turn was accepted, else the error code or transport failure. */
export async function send(url: string, token: string, input: { content: string; conversationId?: string; params?: object }, timeoutMs = 30_000): Promise<SendResult> {
  const r = await gql(url, token, input.conversationId ? SEND_LEAN : SEND, { input }, timeoutMs);
  const at = Date.now();
  const g = r.data?.sendMessage;
  if (g?.generation?.id && !r.errors?.length) {
    return { content: input.content, conversationId: g.conversation?.id ?? input.conversationId ?? null, generationId: g.generation.id, code: null, at, ms: r.ms };
  }
  const code = r.transportError ? `transport:${r.transportError}` : String(r.errors?.[0]?.extensions?.code ?? `HTTP ${r.status}`);
  return { content: input.content, conversationId: input.conversationId ?? null, generationId: null, code, message: (r.transportError ?? r.errors?.[0]?.message ?? '').slice(0, 200), at, ms: r.ms };
}

export type Chunk = { index: number; delta: string; done: boolean; finishReason: string | null; attempt: number; reset: boolean; error: string | null };
export type StreamResult = { chunks: Chunk[]; text: string; ended: boolean; error: string | null; duplicateIndices: number; resets: number };

const STREAM = `subscription($id: ID!, $after: Int, $attempt: Int) { generationStream(id: $id, afterIndex: $after, attempt: $attempt) {
  index delta done finishReason attempt reset error } }`;

/** Follows a generation with the graphql-sse client to its end (or `timeoutMs`), applying resets as a UI would. */
export async function follow(url: string, token: string, id: string, opts: { timeoutMs?: number; onChunk?: (c: Chunk) => void } = {}): Promise<StreamResult> {
  const client = createClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${token}` }, singleConnection: false, retryAttempts: 0 });
  const chunks: Chunk[] = [];
  let error: string | null = null;
  let ended = false;
  const timer = setTimeout(() => { error = 'timeout'; client.dispose(); }, opts.timeoutMs ?? 120_000);
  try {
    for await (const r of client.iterate<{ generationStream: Chunk }>({ query: STREAM, variables: { id, after: null, attempt: null } })) {
      if (r.errors) { error = JSON.stringify(r.errors).slice(0, 300); break; }
      const c = r.data!.generationStream;
      chunks.push(c);
      opts.onChunk?.(c);
      if (c.done) { ended = true; break; }
    }
  } catch (e) {
    error ??= (e as Error).message ?? String(e);
  } finally {
    clearTimeout(timer);
    client.dispose();
  }
  // What the client shows: a reset drops the text so far. Count token indices seen twice in one attempt.
  let text = '';
  let duplicateIndices = 0;
  let last = -1;
  let resets = 0;
  for (const c of chunks) {
    if (c.reset) { text = c.delta; last = c.index; resets++; continue; }
    if (c.index >= 0 && c.index <= last && c.delta) duplicateIndices++;
    if (c.index >= 0) last = Math.max(last, c.index);
    text += c.delta;
  }
  return { chunks, text, ended, error, duplicateIndices, resets };
}

export type LoadRecord = SendResult & { user: number };

/**
 * `concurrency` clients, each sending a turn, (with `awaitAnswer`) waiting for its answer to end,
 * then the next, until `stop` resolves. Each client
 * keeps its own conversation (the first send creates it). A refused or failed send is recorded and
 * the client goes on after a short pause, as a retrying app would.
 */
export async function steadyLoad(url: () => string, tokens: string[], opts: { concurrency: number; stop: Promise<unknown>; params?: object; label: string; pauseMs?: number; awaitAnswer?: (generationId: string) => Promise<unknown> }): Promise<LoadRecord[]> {
  const out: LoadRecord[] = [];
  let stopped = false;
  void opts.stop.then(() => { stopped = true; });
  let seq = 0;
  await Promise.all(Array.from({ length: opts.concurrency }, async (_, k) => {
    let conversationId: string | undefined;
    while (!stopped) {
      const content = `${opts.label} turn ${seq++} from client ${k}`;
      const r = await send(url(), tokens[k % tokens.length]!, { content, conversationId, params: opts.params ?? { maxTokens: 4, temperature: 0 } });
      out.push({ ...r, user: k % tokens.length });
      if (r.generationId) {
        conversationId = r.conversationId ?? conversationId;
        // a user waits for the answer before the next turn: the load stays within what the pipeline can do
        await opts.awaitAnswer?.(r.generationId);
      } else await sleep(200);
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  }));
  return out;
}

/** Polls `probe` until it returns true or `timeoutMs` passes; resolves with the milliseconds it took, or null. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await probe().catch(() => false)) return Date.now() - t0;
    await sleep(everyMs);
  }
  return null;
}
