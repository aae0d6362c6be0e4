import type { IncomingMessage, ServerResponse } from 'node:http';

// Request bodies, read with a size limit that holds before any work is done on them.
//
// An over-limit body is refused with a 413 at once — from Content-Length before a byte is read,
// or as soon as a chunked body crosses the limit — and the refusal must reach the client. Node's
// server closes a `Connection: close` socket as soon as the response ends; closing a socket whose
// peer is still sending makes the kernel answer with a TCP reset, and a client that is still
// writing its body then sees ECONNRESET instead of the 413. So the refusal is written in full
// (Content-Length, Connection: close) but ended only once the rest of the body has been read and
// thrown away — up to DRAIN_LIMIT more bytes or DRAIN_MS, after which the connection is cut (a
// client sending that much more after its answer is not waiting for it).

export const MAX_BODY_BYTES = 1 << 20;
const DRAIN_LIMIT = 32 << 20;
const DRAIN_MS = 10_000;

/** The client closed the connection before its body arrived: there is no one to answer. */
export class ClientGoneError extends Error {}

export type BodyRead = { ok: true; body: Buffer } | { ok: false; reason: 'too_large'; limit: number };

/** Resolves with the body, or with `too_large` (the request is then paused, unread); rejects if the client went away. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, reason: 'too_large', limit });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        chunks.length = 0;
        resolve({ ok: false, reason: 'too_large', limit });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ ok: true, body: Buffer.concat(chunks, size) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new ClientGoneError(error.message));
    };
    const onClose = () => {
      cleanup();
      reject(new ClientGoneError('the client closed the connection before sending its body'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/** Answers a request whose body is not (fully) read — a 413 — so that the client receives it: see above. */
export function answerUnreadBody(req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: Record<string, string | number> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.write(body);
  if (req.readableEnded || req.destroyed) {
    res.end();
    return;
  }
  let discarded = 0;
  const finish = (cut: boolean) => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onEnd);
    res.end();
    if (cut) res.once('finish', () => req.socket.destroy());
  };
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DRAIN_LIMIT) finish(true);
  };
  const onEnd = () => finish(false);
  const timer = setTimeout(() => finish(true), DRAIN_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('close', onEnd);
  req.resume();
}

/** The JSON error body most routes use ({error: {message, code}}). */
export function tooLargeBody(limit: number): string {
  return JSON.stringify({ error: { message: `the request body is larger than ${limit} bytes`, code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' } });
}
