import { authenticate } from '../auth.ts';
import type { HttpRoute } from '../server.ts';
import { handleChatCompletion, type GatewayOptions } from './chat-completions.ts';
import { notFound, OpenAiError, sendOpenAiError, unauthorized } from './errors.ts';
import { sendJsonBody } from './json-body.ts';
import { routeResponses, safeDecode } from './responses.ts';
import { handleModeration } from './moderations.ts';
import { modelsFor } from '../models.ts';

export { InFlight, type GatewayOptions } from './chat-completions.ts';

// The OpenAI-compatible REST API: POST /v1/chat/completions, the Responses API (responses.ts),
// POST /v1/moderations, GET /v1/models, GET /v1/models/{id}.
// Only these paths are claimed; other /v1 routes (events, audit) belong to their own handlers.
export function createOpenAiRoute(o: GatewayOptions & { modelCreated?: number }): HttpRoute {
  const created = o.modelCreated ?? Math.floor(Date.now() / 1000);
  const modelObject = (id: string) => ({ id, object: 'model', created, owned_by: 'parley' });
  return async (req, res, url) => {
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/v1/chat/completions') {
      if (req.method !== 'POST') {
        sendOpenAiError(res, new OpenAiError(405, `${req.method} is not allowed on ${path}; use POST`, 'invalid_request_error', 'method_not_allowed'), { allow: 'POST' });
        return true;
      }
      await handleChatCompletion(o, req, res);
      return true;
    }
    if (await routeResponses(o, req, res, path)) return true;
    if (path === '/v1/moderations') {
      if (req.method !== 'POST') {
        sendOpenAiError(res, new OpenAiError(405, `${req.method} is not allowed on ${path}; use POST`, 'invalid_request_error', 'method_not_allowed'), { allow: 'POST' });
        return true;
      }
      await handleModeration(o, req, res);
      return true;
    }
    if (path !== '/v1/models' && !path.startsWith('/v1/models/')) return false;
    if (req.method !== 'GET') {
      sendOpenAiError(res, new OpenAiError(405, `${req.method} is not allowed on ${path}; use GET`, 'invalid_request_error', 'method_not_allowed'), { allow: 'GET' });
      return true;
    }
    const auth = await authenticate(o.services.jwtSecret, req.headers.authorization);
    if (!auth.actor) {
      sendOpenAiError(res, unauthorized(auth.error ?? 'missing API key: send Authorization: Bearer <token>'));
      return true;
    }
    const served = modelsFor(o.services, auth.actor, o.admission?.tierOf(req.headers.authorization) ?? null);
    // A malformed escape (%E0%A4%A) names no model: decoded leniently, never thrown as a 500.
    const asked = path === '/v1/models' ? null : safeDecode(path.slice('/v1/models/'.length));
    const body = asked === null ? { object: 'list', data: served.map(modelObject) } : served.includes(asked) ? modelObject(asked) : null;
    if (!body) {
      sendOpenAiError(res, notFound(`The model '${(asked ?? '').slice(0, 128)}' does not exist`, 'model_not_found', 'model'));
      return true;
    }
    sendJsonBody(res, 200, body);
    return true;
  };
}
