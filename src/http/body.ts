import type { HttpResponse } from './uws.js';

export type BodyOutcome = { ok: true; body: Buffer } | { ok: false; tooLarge: true };

/**
 * How much of a body over its limit is still read, and dropped, before the 413 is sent and
 * the connection closed: many clients (Python's urllib and requests) write the whole body
 * before they read, and would report a broken pipe instead of the answer if the connection
 * closed under them. As nginx's lingering close does: for a bounded time and size, after
 * which the connection is closed all the same (config lingerMs, lingerBytes).
 */
export interface Linger {
  ms: number;
  bytes: number;
}

/**
 * Reads a request body up to `limit` bytes. uWS reuses the chunk's memory after the
 * callback returns, so every chunk is copied. Over the limit (or at once when the declared
 * length already is), the rest is read and dropped until the body ends or the lingering
 * bound is spent; then the caller answers 413 and closes the connection.
 */
export function readBody(res: HttpResponse, limit: number, done: (outcome: BodyOutcome) => void, opts: { declaredTooLarge: boolean; linger: Linger }): void {
  const { linger } = opts;
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  let refused = false;
  let timer: NodeJS.Timeout | undefined;
  const refuse = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done({ ok: false, tooLarge: true });
  };
  const startLingering = () => {
    refused = true;
    chunks.length = 0;
    timer = setTimeout(refuse, linger.ms);
    timer.unref();
  };
  if (opts.declaredTooLarge) startLingering();
  res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (!refused && size > limit) startLingering();
    if (refused) {
      if (isLast || size > limit + linger.bytes) refuse();
      return;
    }
    if (chunk.byteLength > 0) chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) {
      finished = true;
      done({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
    }
  });
}
