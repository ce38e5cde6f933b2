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

export function decodeBody(body: Buffer, format: Format): unknown {
  if (format === 'json') {
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
