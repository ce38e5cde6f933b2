import { claimOf } from '../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/http/codec.js';
import { ERRORS } from '../../src/errors.js';
import { call, fixtureServer, KEYS, rawExchange } from '../helpers/server.js';

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
    expect((await call(current.server.url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') })).status).toBe(200);
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
    const ok = await call(current.server.url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') });
    const refused = await call(current.server.url, '/v1/verify', { body: claimOf('001090000101') });
    const health = await call(current.server.url, '/healthz');
    expect([ok.headers.get('cache-control'), refused.headers.get('cache-control'), health.headers.get('cache-control')]).toEqual(['no-store', 'no-store', null]);
  });
});

const post = (path: string, raw: string | Buffer, contentType = 'application/json') => call(current.server.url, path, { key: KEYS.full, raw, contentType });

describe('a corpus of hostile requests, each answered with its documented code', () => {
  const name = 'Nguyễn Văn An';
  const claim = (fullName: string) => `{"idNumber":"001090000101","fullName":"${fullName}","dateOfBirth":"1990-05-17"}`;
  it.each([
    ['a NUL inside the name', claim('Nguyễn\\u0000Văn An'), 422, 'fullName'],
    ['a control character inside the name', claim('Nguyễn\\u001bVăn An'), 422, 'fullName'],
    ['an unpaired surrogate', claim('Nguyễn Văn An\\ud800'), 422, 'fullName'],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"idNumber":"001090000101","fullName":"Nguy'), Buffer.from([0xc3, 0x28]), Buffer.from('n Văn An","dateOfBirth":"1990-05-17"}')]), 422, 'fullName'],
    ['a __proto__ key', '{"idNumber":"001090000101","__proto__":{"admin":true}}', 422, '__proto__'],
    ['a constructor key', '{"idNumber":"001090000101","constructor":{"prototype":{}}}', 422, 'constructor'],
    ['a name of the wrong type', '{"idNumber":"001090000101","fullName":["Nguyễn"],"dateOfBirth":"1990-05-17"}', 422, 'fullName'],
    ['an ID number as a number', '{"idNumber":1090000101}', 422, 'idNumber'],
    ['a huge number', '{"idNumber":"001090000101","fullName":"Nguyễn Văn An","dateOfBirth":"1990-05-17","options":{"nameThreshold":1e400}}', 422, 'options.nameThreshold'],
    ['truncated JSON', claim(name).slice(0, 30), 400, undefined],
    ['an array body', '[1,2,3]', 422, 'body'],
    ['an empty body', '', 400, undefined],
  ] as const)('%s', async (_, raw, status, field) => {
    const reply = await post('/v1/verify', raw);
    expect(reply.status).toBe(status);
    if (field) expect(reply.body.error.field).toBe(field);
  });

  it('reads a tab between the words of a name as a space, as forms paste it', async () => {
    const reply = await post('/v1/verify', claim('Nguyễn\\tVăn An\\t'));
    expect(reply.status).toBe(200);
    expect(reply.body.result).toBe('match');
  });

  it('answers unknown methods and paths, and a slow sender', async () => {
    expect((await call(current.server.url, '/v1/verify', { key: KEYS.full, method: 'PATCH', raw: '{}' })).status).toBe(405);
    expect((await call(current.server.url, '/v2/verify', { key: KEYS.full, raw: '{}' })).status).toBe(404);
    const body = claim(name);
    const slow = await rawExchange(
      current.server.port,
      [`POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.full}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`],
      300,
    );
    expect(slow.text).toBe(''); // still waiting for the rest of the body
  });
});

/** A small deterministic generator (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzzing with mutated valid requests', () => {
  const VALID: [string, object][] = [
    ['/v1/verify', { ...claimOf('001090000101'), gender: 'male', options: { nameThreshold: 85 } }],
    ['/v1/verify/demographic', { fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08', provinceCode: '001' }],
    ['/v1/verify/batch', { purpose: 'kyc', items: [{ type: 'id', ...claimOf('079190000202'), fullName: 'Trần Thị Thủy' }, { type: 'demographic', fullName: 'Lê Văn Hòa', dateOfBirth: '1945-06-15' }] }],
  ];
  const SPICE = ['\u0000', '\ud800', '"', '\\', '{', '[', '}', ']', ',', ':', '1e999', 'null', 'true', '-', '\u202e', 'ễ', '__proto__', ' ', '\n'];

  function mutate(text: Buffer, next: () => number): Buffer {
    const bytes = [...text];
    const edits = 1 + Math.floor(next() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * (bytes.length + 1));
      const kind = Math.floor(next() * 5);
      if (kind === 0 && bytes.length) bytes.splice(at, 1 + Math.floor(next() * 8));
      else if (kind === 1) bytes.splice(at, 0, ...Buffer.from(SPICE[Math.floor(next() * SPICE.length)]));
      else if (kind === 2 && bytes.length) bytes[at % bytes.length] = Math.floor(next() * 256);
      else if (kind === 3 && bytes.length) bytes.splice(at, 0, ...bytes.slice(at, at + Math.floor(next() * 40)));
      else bytes.splice(at, 0, Math.floor(next() * 256));
    }
    return Buffer.from(bytes);
  }

  it('keeps serving, and every answer is a documented status with a well-formed body', async () => {
    const next = random(20261127);
    const deadline = Date.now() + 8000;
    const statuses = new Map<number, number>();
    let sent = 0;
    while (sent < 3000 && Date.now() < deadline) {
      const [path, body] = VALID[Math.floor(next() * VALID.length)];
      const asMsgpack = next() < 0.2;
      const raw = mutate(asMsgpack ? pack(body) : Buffer.from(JSON.stringify(body)), next);
      const reply = await post(path, raw, asMsgpack ? 'application/msgpack' : 'application/json');
      sent++;
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      expect([200, 400, 413, 422], `seed 20261127, request ${sent}`).toContain(reply.status);
      if (reply.status === 200) expect(reply.body.requestId).toEqual(expect.any(String));
      else expect(Object.keys(ERRORS)).toContain(reply.body.error.code);
    }
    expect(sent).toBeGreaterThan(500);
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect((await call(current.server.url, '/healthz')).status).toBe(200);
    expect((await post('/v1/verify', JSON.stringify(VALID[0][1]))).body.result).toBe('match');
  });
});
