import type { ServerResponse } from 'node:http';
import { ReplayInputError, parseAfter, parseLimit, parseTypes } from '../../streams/query.ts';
import { canSeeContent, LOG_ROLES } from '../../streams/privacy.ts';
import type { EventStreams } from '../../streams/replay.ts';
import { isPlatformOperator } from '../../domain/access.ts';
import { requireHttpRole } from './require-role.ts';
import type { HttpRoute } from '../server.ts';
import { sendJson, sendV1Error } from './json.ts';

const MAX_LIMIT = 10_000_000;

// GET /v1/events?after=<cursor>&types=T1,T2&limit=N (data_scientist role): the log as NDJSON, one
// event per line, oldest first, up to the head of the log when the request arrived (or `limit`).
// Each line's `position` is the cursor: pass the last one as `after` to resume.
export function createEventsNdjsonRoute(streams: EventStreams, jwtSecret: string): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname !== '/v1/events') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendV1Error(res, 405, `${req.method} is not allowed on /v1/events; use GET`, 'method_not_allowed', { allow: 'GET' });
      return true;
    }
    const actor = await requireHttpRole(jwtSecret, req, res, LOG_ROLES);
    if (!actor) return true;
    let query;
    try {
      const known = new Set(['after', 'types', 'limit']);
      const extra = [...url.searchParams.keys()].find((k) => !known.has(k));
      if (extra) throw new ReplayInputError(extra, `unknown parameter "${extra}" (known: after, types, limit)`);
      for (const k of ['after', 'limit']) {
        if (url.searchParams.getAll(k).length > 1) throw new ReplayInputError(k, `${k} is given more than once`);
      }
      query = {
        after: parseAfter(url.searchParams.get('after')),
        types: parseTypes(url.searchParams.has('types') ? url.searchParams.getAll('types') : undefined),
        limit: parseLimit(url.searchParams.get('limit'), MAX_LIMIT),
      };
    } catch (error) {
      if (!(error instanceof ReplayInputError)) throw error;
      sendJson(res, 400, { error: { message: error.message, code: 'BAD_USER_INPUT', field: error.field } });
      return true;
    }

    const head = await streams.headPosition();
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-parley-head': head,
    });
    if (req.method === 'HEAD') return void res.end(), true;

    const controller = new AbortController();
    const onClose = () => controller.abort();
    res.on('close', onClose);
    try {
      for await (const page of streams.replay({ ...query, until: head, includeContent: canSeeContent(actor.roles), tenantId: isPlatformOperator(actor) ? null : actor.tenantId, signal: controller.signal })) {
        for (const event of page) {
          if (controller.signal.aborted) return true;
          if (!res.write(JSON.stringify(event) + '\n')) await drained(res, controller.signal);
        }
      }
      res.end();
    } catch (error) {
      if (controller.signal.aborted) return true;
      // Headers are gone: say so in-band and end, so the client knows the stream is incomplete.
      console.error('events export failed', error);
      res.end(JSON.stringify({ error: { message: 'internal error: resume after the last position you received', code: 'INTERNAL' } }) + '\n');
    } finally {
      res.off('close', onClose);
    }
    return true;
  };
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
