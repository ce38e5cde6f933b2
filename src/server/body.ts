import type { HttpResponse } from './uws.js';

export type BodyOutcome = { ok: true; body: Buffer } | { ok: false; tooLarge: true };

/**
 * Reads a request body up to `limit` bytes. uWS reuses the chunk's memory after the
 * callback returns, so every chunk is copied. Over the limit, reading stops and the
 * caller answers 413 and closes the connection.
 */
export function readBody(res: HttpResponse, limit: number, done: (outcome: BodyOutcome) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (size > limit) {
      finished = true;
      done({ ok: false, tooLarge: true });
      return;
    }
    if (chunk.byteLength > 0) chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) {
      finished = true;
      done({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
    }
  });
}
