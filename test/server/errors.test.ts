import { claimOf } from '../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/packageFiles.js';
import { call, fixtureServer, KEYS, rawExchange, type Reply } from '../helpers/server.js';
import { CONTRACT } from '../helpers/contract.js';

// Short, so that the lingering of a refused body shows within a test.
const LINGER_MS = 600;
const current = fixtureServer({ lingerMs: LINGER_MS });

/** Checks an error reply: status from the catalogue, documented shape, Retry-After on 503. */
function expectError(reply: Reply, code: keyof typeof ERRORS, field?: string): void {
  expect(reply.status).toBe(ERRORS[code].status);
  expect(CONTRACT.schemaProblems('Error', reply.body)).toEqual([]);
  expect(reply.body.error.code).toBe(code);
  if (field !== undefined) expect(reply.body.error.field).toBe(field);
}

const verify = (body: unknown, key = KEYS.full) => call(current.server.url, '/v1/verify', { key, body });

describe('error codes over HTTP', () => {
  it('INVALID_JSON', async () => {
    expectError(await call(current.server.url, '/v1/verify', { key: KEYS.full, raw: '{"idNumber": ' }), 'INVALID_JSON');
  });

  it('INVALID_MSGPACK', async () => {
    expectError(await call(current.server.url, '/v1/verify', { key: KEYS.full, raw: new Uint8Array([0x82, 0xa1, 0x61]), contentType: 'application/msgpack' }), 'INVALID_MSGPACK');
  });

  it('UNAUTHORIZED without a key, with an unknown key, or with another scheme', async () => {
    expectError(await call(current.server.url, '/v1/verify', { body: claimOf('001090000101') }), 'UNAUTHORIZED');
    expectError(await verify(claimOf('001090000101'), 'not-a-key'), 'UNAUTHORIZED');
    const basic = await fetch(current.server.url + '/v1/verify', { method: 'POST', headers: { authorization: `Basic ${KEYS.full}`, 'content-type': 'application/json' }, body: '{}' });
    expect(basic.status).toBe(401);
  });

  it('FORBIDDEN for a key without the scope', async () => {
    const body = { fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' };
    expectError(await call(current.server.url, '/v1/verify/demographic', { key: KEYS.verifyOnly, body }), 'FORBIDDEN');
    expectError(await call(current.server.url, '/v1/verify/batch', { key: KEYS.verifyOnly, body: { items: [] } }), 'FORBIDDEN');
  });

  it('NOT_FOUND for an unknown route', async () => {
    expectError(await call(current.server.url, '/v2/verify'), 'NOT_FOUND');
  });

  it('METHOD_NOT_ALLOWED for a known route with the wrong method', async () => {
    expectError(await call(current.server.url, '/v1/verify', { key: KEYS.full }), 'METHOD_NOT_ALLOWED');
  });

  it('BODY_TOO_LARGE from Content-Length: the body read to its end and dropped, then the answer, and the connection closed', async () => {
    // A client that writes its whole body before it reads (Python's urllib does) reads the 413, not a broken pipe.
    const body = 'x'.repeat(4 * 1024 * 1024);
    const head = `POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.full}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const started = performance.now();
    const { text, closedByServer } = await rawExchange(current.server.port, [head, body], 5000);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('"code":"BODY_TOO_LARGE"');
    expect(closedByServer).toBe(true);
    // Answered when the body ended, not after the lingering time.
    expect(performance.now() - started).toBeLessThan(LINGER_MS);
  });

  it('BODY_TOO_LARGE to a client that stops sending: answered once the lingering time is spent, and closed', async () => {
    const head = `POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.full}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n`;
    const started = performance.now();
    const { text, closedByServer } = await rawExchange(current.server.port, [head, '{"idNumber":'], 5000);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('"code":"BODY_TOO_LARGE"');
    // Closed by the server, not left open waiting for the other 10 MB.
    expect(closedByServer).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(LINGER_MS - 50);
  });

  it('BODY_TOO_LARGE for a chunked body that grows past the limit, at its end', async () => {
    const head = `POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.full}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunk = 'x'.repeat(8192);
    const body = Array.from({ length: 4 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const { text, closedByServer } = await rawExchange(current.server.port, [head, ...body, '0\r\n\r\n'], 5000);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(closedByServer).toBe(true);
  });

  it('UNSUPPORTED_MEDIA_TYPE for anything but JSON or msgpack', async () => {
    expectError(await call(current.server.url, '/v1/verify', { key: KEYS.full, raw: 'idNumber=001090000101', contentType: 'application/x-www-form-urlencoded' }), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await call(current.server.url, '/v1/verify', { key: KEYS.full, raw: '{}', contentType: 'text/plain' }), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('VALIDATION_FAILED names the field, and never echoes the value', async () => {
    const cases: [unknown, string][] = [
      [{ idNumber: '00109000010' }, 'idNumber'],
      [{ ...claimOf('001090000101'), idNumber: '003090000101' }, 'idNumber'],
      [{ idNumber: 1090000101 }, 'idNumber'],
      [{}, 'idNumber'],
      [{ ...claimOf('001090000101'), fullname: 'Nguyễn Văn An' }, 'fullname'],
      [{ ...claimOf('001090000101'), dateOfBirth: '17/05/1990' }, 'dateOfBirth'],
      [{ ...claimOf('001090000101'), gender: 'm' }, 'gender'],
      [{ ...claimOf('001090000101'), legacyIdNumber: '1234' }, 'legacyIdNumber'],
      [{ ...claimOf('001090000101'), cardIssueDate: '2021' }, 'cardIssueDate'],
      [{ ...claimOf('001090000101'), options: { nameThreshold: 101 } }, 'options.nameThreshold'],
      [{ ...claimOf('001090000101'), options: { threshold: 90 } }, 'options.threshold'],
      [{ ...claimOf('001090000101'), purpose: 'Account Opening!' }, 'purpose'],
      [{ ...claimOf('001090000101'), fullName: 'x'.repeat(101) }, 'fullName'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const reply = await verify(body);
      expectError(reply, 'VALIDATION_FAILED', field);
      expect(reply.body.error.message).not.toMatch(/00109000010|003090000101|17\/05\/1990|Nguyễn/);
    }
    const demo = await call(current.server.url, '/v1/verify/demographic', { key: KEYS.full, body: { fullName: 'Nguyễn An', dateOfBirth: '1990-05-17', provinceCode: '003' } });
    expectError(demo, 'VALIDATION_FAILED', 'provinceCode');
    const missing = await call(current.server.url, '/v1/verify/demographic', { key: KEYS.full, body: { fullName: 'An' } });
    expectError(missing, 'VALIDATION_FAILED', 'dateOfBirth');
    const tooMany = await call(current.server.url, '/v1/verify/batch', { key: KEYS.full, body: { items: Array.from({ length: 1001 }, () => ({ type: 'id', ...claimOf('001090000101') })) } });
    expectError(tooMany, 'VALIDATION_FAILED', 'items');
  });

  it('RATE_LIMITED past the client rate', async () => {
    const first = await verify(claimOf('001090000101'), KEYS.limited);
    expect(first.status).toBe(200);
    const refused = await verify(claimOf('001090000101'), KEYS.limited);
    expectError(refused, 'RATE_LIMITED');
    // One token at 0.001 per second: worth trying again in 1,000 s.
    expect(refused.headers.get('retry-after')).toBe('1000');
  });
});

describe('the error catalogue', () => {
  const api = readFileSync(join(PACKAGE_ROOT, 'docs', 'api.md'), 'utf8');
  const section = api.slice(api.indexOf('## Error codes'));
  const listed = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);

  it('docs/api.md lists every code with its status, and nothing else', () => {
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status])));
  });

  it('the OpenAPI error schema lists every code', () => {
    expect((CONTRACT.doc as any).components.schemas.Error.properties.error.properties.code.enum).toEqual(Object.keys(ERRORS));
  });
});

/** A line that expects an answer to carry the code (in its body, or as an error reply's code); one that expects its absence does not count. */
const assertsCode = (line: string, code: string) => /expect/.test(line) && !/\.not\./.test(line) && (line.includes(`'${code}'`) || line.includes(`"code":"${code}"`));

describe('coverage of this file', () => {
  it('counts a line that expects the code, not one that expects it absent or only names it', () => {
    expect(assertsCode(`expect(reply.body.error.code).toBe('RATE_LIMITED');`, 'RATE_LIMITED')).toBe(true);
    expect(assertsCode(`expectError(await verify(claim), 'RATE_LIMITED');`, 'RATE_LIMITED')).toBe(true);
    expect(assertsCode(`expect(text).toContain('"code":"RATE_LIMITED"');`, 'RATE_LIMITED')).toBe(true);
    expect(assertsCode(`expect(reply.body.error.code).not.toBe('RATE_LIMITED');`, 'RATE_LIMITED')).toBe(false);
    expect(assertsCode(`const code = 'RATE_LIMITED';`, 'RATE_LIMITED')).toBe(false);
  });

  it('every code is provoked by some test and checked in its answer', () => {
    // Read from the test files, not gathered while other tests run: no test depends on another having run.
    const files = readdirSync(join(PACKAGE_ROOT, 'test'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts'));
    const lines = files.flatMap((f) => readFileSync(join(PACKAGE_ROOT, 'test', f), 'utf8').split('\n'));
    expect(Object.keys(ERRORS).filter((code) => !lines.some((line) => assertsCode(line, code)))).toEqual([]);
  });
});
