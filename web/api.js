// Parley's public GraphQL API from the browser: queries and mutations over POST /graphql, subscriptions
// over Server-Sent Events on the same endpoint (Accept: text/event-stream), with fetch only.

export class ApiError extends Error {
  /** @param {string} message @param {string} code @param {Record<string, unknown>} [extensions] */
  constructor(message, code, extensions = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.extensions = extensions;
  }
}

function firstError(body, status) {
  const e = body?.errors?.[0];
  if (e) return new ApiError(e.message, e.extensions?.code ?? 'INTERNAL', e.extensions ?? {});
  return new ApiError(`the server answered HTTP ${status}`, status >= 500 ? 'UNAVAILABLE' : 'BAD_RESPONSE');
}

/**
 * @param {{ endpoint?: string, getToken: () => string | null, fetch?: typeof fetch }} options
 */
export function createClient({ endpoint = '/graphql', getToken, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const headers = (accept) => {
    const h = { 'content-type': 'application/json', accept };
    const token = getToken();
    if (token) h.authorization = `Bearer ${token}`;
    return h;
  };

  /** Runs a query or mutation; returns `data` or throws the first error as an ApiError. */
  async function request(query, variables = {}) {
    let res;
    try {
      res = await fetchImpl(endpoint, { method: 'POST', headers: headers('application/graphql-response+json, application/json'), body: JSON.stringify({ query, variables }) });
    } catch (error) {
      throw new ApiError('cannot reach the server; check your connection', 'NETWORK', { cause: String(error) });
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      throw firstError(null, res.status);
    }
    if (body?.errors?.length) throw firstError(body, res.status);
    if (!res.ok || !body?.data) throw firstError(body, res.status);
    return body.data;
  }

  /**
   * Runs a subscription until the server completes it. Calls onNext(data) for every result and
   * onActivity() for every byte received (pings included). Resolves true on `complete`, false when the
   * stream ends without it; rejects with an ApiError for a GraphQL error, or the network error.
   * @param {{ signal?: AbortSignal, onNext: (data: any) => void, onActivity?: () => void }} options
   */
  async function subscribe(query, variables, { signal, onNext, onActivity = () => {} }) {
    const res = await fetchImpl(endpoint, { method: 'POST', headers: headers('text/event-stream'), body: JSON.stringify({ query, variables }), signal });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      let body = null;
      try { body = await res.json(); } catch { /* not JSON */ }
      throw firstError(body, res.status);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        onActivity();
        buffer += value;
        for (let end = blockEnd(buffer); end; end = blockEnd(buffer)) {
          const block = buffer.slice(0, end.at);
          buffer = buffer.slice(end.at + end.length);
          const event = parseEvent(block);
          if (!event) continue;
          if (event.name === 'complete') return true;
          if (event.data === '') continue;
          const payload = JSON.parse(event.data);
          if (payload.errors?.length) throw firstError(payload, 200);
          if (payload.data) onNext(payload.data);
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  return { request, subscribe };
}

function blockEnd(buffer) {
  const m = /\r?\n\r?\n/.exec(buffer);
  return m ? { at: m.index, length: m[0].length } : null;
}

// One SSE event: `event:` name and `data:` lines; lines starting with ':' are comments (pings).
function parseEvent(block) {
  let name = 'message';
  const data = [];
  let any = false;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') { name = value; any = true; }
    if (field === 'data') { data.push(value); any = true; }
  }
  return any ? { name, data: data.join('\n') } : null;
}
