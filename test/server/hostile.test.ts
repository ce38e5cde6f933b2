import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/server/codec.js';
import { call, fixtureServer, KEYS } from '../helpers/server.js';

const current = fixtureServer();

describe('bounded JSON nesting', () => {
  it.each([
    ['flat', '{"a":[1,2,{"b":3}]}', 3, false],
    ['deep', '[[[[1]]]]', 3, true],
    ['brackets inside strings do not count', '{"a":"[[[[[[{{{{"}', 2, false],
    ['escaped quotes do not end a string', '{"a":"\\"[[[[[[\\\\"}', 1, false],
    ['an escaped backslash before the closing quote', '{"a":"\\\\"}', 1, false],
  ])('%s', (_, text, max, deeper) => expect(nestsDeeperThan(Buffer.from(text), max)).toBe(deeper));

  it('refuses 2 MB of nested brackets before parsing, and goes on serving', async () => {
    const body = '{"items":' + '['.repeat(1_000_000) + ']'.repeat(1_000_000) + '}';
    const reply = await call(current.server.url, '/v1/verify/batch', { key: KEYS.full, raw: body.slice(0, 2 * 1024 * 1024 - 10) });
    expect(reply.status).toBe(422);
    expect(reply.body.error).toEqual({ code: 'VALIDATION_FAILED', message: `the body nests deeper than ${MAX_JSON_DEPTH} levels` });
    expect((await call(current.server.url, '/v1/verify', { key: KEYS.full, body: { idNumber: '001090000101' } })).status).toBe(200);
  });

  it('answers deeply nested msgpack INVALID_MSGPACK, and goes on serving', async () => {
    const bytes = Buffer.concat([Buffer.alloc(1_000_000, 0x91), pack(1)]); // a million one-element arrays around 1
    const reply = await call(current.server.url, '/v1/verify/batch', { key: KEYS.full, raw: bytes, contentType: 'application/msgpack' });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('INVALID_MSGPACK');
    expect((await call(current.server.url, '/healthz')).status).toBe(200);
  });
});

describe('answers about people are never cached', () => {
  it('carries Cache-Control: no-store on verification answers, refusals included, and not on health checks', async () => {
    const ok = await call(current.server.url, '/v1/verify', { key: KEYS.full, body: { idNumber: '001090000101' } });
    const refused = await call(current.server.url, '/v1/verify', { body: { idNumber: '001090000101' } });
    const health = await call(current.server.url, '/healthz');
    expect([ok.headers.get('cache-control'), refused.headers.get('cache-control'), health.headers.get('cache-control')]).toEqual(['no-store', 'no-store', null]);
  });
});
