import { describe, expect, it } from 'vitest';
import { requestFormat, responseFormat } from '../../src/http/codec.js';

describe('content negotiation', () => {
  it.each([
    ['application/json', 'json'], ['application/json; charset=utf-8', 'json'], ['Application/MsgPack', 'msgpack'],
    ['application/x-msgpack', 'msgpack'], ['text/plain', undefined], ['', undefined],
  ])('Content-Type %s → %s', (header, format) => expect(requestFormat(header)).toBe(format));
  it.each([
    ['', 'msgpack', 'msgpack'], ['*/*', 'json', 'json'], ['application/msgpack', 'json', 'msgpack'],
    ['text/html, application/json;q=0.9', 'msgpack', 'json'],
  ] as const)('Accept %s with a %s request → %s', (accept, fallback, format) => expect(responseFormat(accept, fallback)).toBe(format));
});
