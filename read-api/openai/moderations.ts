import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { moderate } from '../../safety/index.ts';
import { authenticate } from '../auth.ts';
import { answerRouteError, readJsonBody, sendJsonBody } from './json-body.ts';
import { invalidRequest, overloaded, refusal, unauthorized } from './errors.ts';
import type { GatewayOptions } from './intake.ts';

// POST /v1/moderations, OpenAI's shape (the `openai` client's moderations.create): `input` is a
// string or up to 32 strings; each result says whether the chat path would block that input under
// the default policy, with OpenAI's category names and Parley's own (safety/moderation.ts).
// Authenticated and admitted (rate limits, shedding) like a chat request, charged by its size.

export const MAX_INPUTS = 32;
/** Characters per input; a longer one is a 400, not a truncated check. */
export const MAX_INPUT_CHARS = 65_536;
/** The body may hold 32 inputs at the limit; anything larger is refused unread (413). */
const MAX_MODERATION_BODY = 4 * 1024 * 1024;
export const MODERATION_MODEL = 'parley-moderation-v1';

const Input = z.string(`input must be a string or an array of strings`).max(MAX_INPUT_CHARS, `each input must be at most ${MAX_INPUT_CHARS} characters`);
// A union would report only its own message; the two shapes are told apart first, so each error
// names what is wrong (an empty array, 33 items, a number, a text too long).
const Request = z.object({
  input: z.union([z.string(), z.array(z.unknown())], 'input must be a string or an array of strings'),
  model: z.string().optional(),
});
const Inputs = z.array(Input).min(1, 'input must not be an empty array').max(MAX_INPUTS, `input may hold at most ${MAX_INPUTS} strings`);

export async function handleModeration(o: GatewayOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = { 'x-request-id': typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID() };
  try {
    if (o.draining()) throw overloaded('the server is shutting down; retry on another instance', 1);
    const auth = await authenticate(o.services.jwtSecret, req.headers.authorization);
    if (!auth.actor) throw unauthorized(auth.error ?? 'missing API key: send Authorization: Bearer <token>');
    const texts = await readRequest(req);
    const chars = texts.reduce((n, t) => n + t.length, 0);
    const admitted = o.admission
      ? await o.admission.admit({ actor: auth.actor, tier: o.admission.tierOf(req.headers.authorization), maxTokens: 0, promptTokens: Math.ceil(chars / 4), stream: false })
      : null;
    if (admitted && !admitted.ok) throw refusal(admitted);
    const results = await moderate(texts);
    if (admitted?.ok) await o.admission!.settle(admitted.ticket, Math.ceil(chars / 4));
    sendJsonBody(res, 200, { id: `modr-${randomUUID()}`, model: MODERATION_MODEL, results }, headers);
  } catch (error) {
    answerRouteError(req, res, error, headers, o.logger, 'moderation failed');
  }
}

async function readRequest(req: IncomingMessage): Promise<string[]> {
  const json = await readJsonBody(req, MAX_MODERATION_BODY);
  const parsed = Request.safeParse(json);
  const input = parsed.success ? parsed.data.input : undefined;
  const inputs = Inputs.safeParse(typeof input === 'string' ? [input] : input);
  const issue = !parsed.success ? parsed.error.issues[0] : !inputs.success ? inputs.error.issues[0] : undefined;
  if (issue || !inputs.success) {
    const where = typeof input === 'string' ? 'input' : ['input', ...(issue?.path ?? []).filter((p) => p !== 'input')].map(String).join('.').replace(/\.(\d+)/g, '[$1]');
    throw invalidRequest(issue?.message ?? 'invalid input', where, 'invalid_input');
  }
  return inputs.data;
}
