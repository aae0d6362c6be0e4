import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Embedder } from '../../inference/embeddings/index.ts';
import { authenticate } from '../auth.ts';
import type { Logger } from '../observability/logger.ts';
import type { Admission } from '../rate-limit/admission.ts';
import type { HttpRoute } from '../server.ts';
import { answerRouteError, readJsonBody, sendJsonBody } from '../openai/json-body.ts';
import { invalidRequest, notFound, OpenAiError, overloaded, refusal, sendOpenAiError, unauthorized } from '../openai/errors.ts';

// POST /v1/embeddings, OpenAI's shape (the `openai` client's embeddings.create): `input` is a string
// or up to MAX_INPUTS strings; `encoding_format` float (arrays of numbers) or base64 (little-endian
// float32 bytes — what the official client asks for by default and decodes). Authenticated and
// admitted (quotas, shedding) like a chat request and charged its token count; the vectors are
// computed in the embedder's worker thread, batched with other callers'.

export const MAX_INPUTS = 256;
export const MAX_INPUT_CHARS = 32_768;
const MAX_EMBEDDINGS_BODY = 9 * 1024 * 1024;

const Request = z.object({
  input: z.union([z.string(), z.array(z.unknown())], 'input must be a string or an array of strings'),
  model: z.string('model must be a string').optional(),
  encoding_format: z.enum(['float', 'base64'], "encoding_format must be 'float' or 'base64'").optional(),
  dimensions: z.number('dimensions must be a number').int('dimensions must be an integer').positive('dimensions must be positive').optional(),
  user: z.string().optional(),
});
const Input = z.string('each input must be a string (token-id arrays are not supported)')
  .min(1, 'an input must not be empty').max(MAX_INPUT_CHARS, `each input must be at most ${MAX_INPUT_CHARS} characters`);
const Inputs = z.array(Input).min(1, 'input must not be an empty array').max(MAX_INPUTS, `input may hold at most ${MAX_INPUTS} strings`);

export type EmbeddingsRouteOptions = {
  jwtSecret: string;
  /** the embedder, started lazily on the first request (model files are read once) */
  embedder: () => Promise<Embedder>;
  admission: () => Admission | null;
  draining: () => boolean;
  logger: Logger;
};

export function createEmbeddingsRoute(o: EmbeddingsRouteOptions): HttpRoute {
  return async (req, res, url) => {
    const path = url.pathname.replace(/\/+$/, '');
    if (path !== '/v1/embeddings') return false;
    if (req.method !== 'POST') {
      sendOpenAiError(res, new OpenAiError(405, `${req.method} is not allowed on ${path}; use POST`, 'invalid_request_error', 'method_not_allowed'), { allow: 'POST' });
      return true;
    }
    await handleEmbeddings(o, req, res);
    return true;
  };
}

async function handleEmbeddings(o: EmbeddingsRouteOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = { 'x-request-id': typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID() };
  try {
    if (o.draining()) throw overloaded('the server is shutting down; retry on another instance', 1);
    const auth = await authenticate(o.jwtSecret, req.headers.authorization);
    if (!auth.actor) throw unauthorized(auth.error ?? 'missing API key: send Authorization: Bearer <token>');
    const request = await readRequest(req);
    const embedder = await o.embedder();
    if (request.model !== undefined && request.model !== embedder.model) {
      throw notFound(`The model '${request.model.slice(0, 128)}' does not exist; this server embeds with '${embedder.model}'`, 'model_not_found', 'model');
    }
    if (request.dimensions !== undefined && request.dimensions !== embedder.dimensions) {
      throw invalidRequest(`dimensions must be ${embedder.dimensions} for ${embedder.model} (it is not a Matryoshka model)`, 'dimensions', 'invalid_value');
    }
    const admission = o.admission();
    const estimate = Math.ceil(request.texts.reduce((n, t) => n + t.length, 0) / 4);
    const admitted = admission
      ? await admission.admit({ actor: auth.actor, tier: admission.tierOf(req.headers.authorization), maxTokens: 0, promptTokens: estimate, stream: false })
      : null;
    if (admitted && !admitted.ok) throw refusal(admitted);
    let out;
    try {
      out = await embedder.embed(request.texts);
    } finally {
      if (admitted?.ok) await admission!.settle(admitted.ticket, out ? out.tokens.reduce((a, b) => a + b, 0) : 0);
    }
    const tokens = out.tokens.reduce((a, b) => a + b, 0);
    sendJsonBody(res, 200, {
      object: 'list',
      data: out.vectors.map((v, index) => ({ object: 'embedding', index, embedding: request.format === 'base64' ? toBase64(v) : Array.from(v) })),
      model: embedder.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    }, headers);
  } catch (error) {
    answerRouteError(req, res, error, headers, o.logger, 'embeddings failed');
  }
}

function toBase64(v: Float32Array): string {
  const le = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => le.writeFloatLE(x, i * 4));
  return le.toString('base64');
}

async function readRequest(req: IncomingMessage) {
  const json = await readJsonBody(req, MAX_EMBEDDINGS_BODY);
  const parsed = Request.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidRequest(issue.message, issue.path.map(String).join('.') || null, 'invalid_value');
  }
  const input = parsed.data.input;
  const inputs = Inputs.safeParse(typeof input === 'string' ? [input] : input);
  if (!inputs.success) {
    const issue = inputs.error.issues[0];
    const where = typeof input === 'string' ? 'input' : `input${issue.path.map((p) => `[${String(p)}]`).join('')}`;
    throw invalidRequest(issue.message, where, 'invalid_input');
  }
  return { texts: inputs.data, model: parsed.data.model, format: parsed.data.encoding_format ?? 'float', dimensions: parsed.data.dimensions };
}
