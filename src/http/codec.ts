import { Packr, Unpackr } from 'msgpackr';
import { ServiceError } from '../errors.js';

export type Format = 'json' | 'msgpack';

export const CONTENT_TYPES: Record<Format, string> = { json: 'application/json', msgpack: 'application/msgpack' };

function mediaType(header: string): string {
  return header.split(';', 1)[0].trim().toLowerCase();
}

/** The body format named by Content-Type, or undefined for an unsupported one. */
export function requestFormat(contentType: string): Format | undefined {
  const type = mediaType(contentType);
  if (type === 'application/json') return 'json';
  if (type === 'application/msgpack' || type === 'application/x-msgpack') return 'msgpack';
  return undefined;
}

/** The answer follows Accept when it names one of our formats, else the request's own format. */
export function responseFormat(accept: string, fallback: Format): Format {
  if (accept === '') return fallback;
  const types = accept.split(',').map(mediaType);
  for (const type of types) {
    if (type === 'application/msgpack' || type === 'application/x-msgpack') return 'msgpack';
    if (type === 'application/json') return 'json';
  }
  return fallback;
}

// Untrusted input: plain msgpack only (no records, no extensions beyond the defaults).
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const packr = new Packr({ useRecords: false });

/** No request of the contract nests deeper (batch → items → item → options is 4). */
export const MAX_JSON_DEPTH = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Where the string opened at `open` closes (a quote not escaped), or -1. */
function stringEnd(body: Buffer, open: number): number {
  for (let j = body.indexOf(QUOTE, open + 1); j >= 0; j = body.indexOf(QUOTE, j + 1)) {
    let backslashes = 0;
    while (body[j - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
  return -1;
}

/**
 * Whether JSON text nests deeper than `max`, by one pass over its bytes (strings are
 * skipped with a native search for their closing quote). Run before JSON.parse, so a
 * body of a million brackets costs a scan instead of holding the event loop in the parser.
 */
export function nestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (b === QUOTE) {
      i = stringEnd(body, i);
      if (i < 0) return false; // unterminated: JSON.parse refuses it
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

export function decodeBody(body: Buffer, format: Format): unknown {
  if (format === 'json') {
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw new ServiceError('VALIDATION_FAILED', `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new ServiceError('INVALID_JSON');
    }
  }
  try {
    return unpackr.unpack(body);
  } catch {
    throw new ServiceError('INVALID_MSGPACK');
  }
}

export function encodeBody(value: unknown, format: Format): string | Buffer {
  return format === 'json' ? JSON.stringify(value) : packr.pack(value);
}
