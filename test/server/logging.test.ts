import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, logTo } from '../../src/log.js';
import { startCli } from '../helpers/cli.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/** Structured logs (pino): a line per answer at debug, per 4xx at info when asked, every 5xx with its stack; nothing personal. */
let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
});
afterAll(() => index.remove());

/** A logger writing into an array of parsed lines. */
function capture(level: Parameters<typeof createLogger>[0]) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
  return { lines, log: logTo(createLogger(level, sink)) };
}

/** Polls the lines until one satisfies `find`, for at most 5 s. */
function lineWhere(logs: () => Record<string, unknown>[], find: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return vi.waitFor(() => {
    const line = logs().find(find);
    expect(line, 'a log line').toBeDefined();
    return line!;
  }, { timeout: 5000, interval: 20 });
}

describe('the logger', () => {
  it('writes JSON lines with level names and ISO times, at the configured level', () => {
    const { lines, log } = capture('info');
    log({ level: 'debug', msg: 'not shown' });
    log({ level: 'warn', msg: 'shown', count: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'shown', count: 3, time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
  });

  it('redacts the authorization header and any personal field a caller passes', () => {
    const { lines, log } = capture('info');
    log({ msg: 'careless', authorization: `Bearer ${KEYS.full}`, headers: { authorization: 'Bearer x' }, idNumber: '001090000101', item: { fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' }, record: { idNumber: '001090000101' } });
    const text = JSON.stringify(lines);
    for (const secret of [KEYS.full, 'Bearer x', '001090000101', 'Nguyễn', '1990-05-17']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ authorization: '[redacted]', idNumber: '[redacted]', item: { fullName: '[redacted]' } });
  });
});

describe('idv serve --log-level debug --log-client-errors', () => {
  it('logs each answer and each refusal (4xx, and 503 OVERLOADED) by request id, code and client, and nothing about the citizen or the key', async () => {
    const server = await startCli('serve', ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir), '--log-level', 'debug', '--log-client-errors', '--max-inflight', '0']);
    try {
      // With no room in flight, a verification is refused 503 OVERLOADED: shedding, logged as a refusal, not as a failure.
      const overloaded = await call(server.url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') });
      expect(overloaded.status).toBe(503);
      const refused = await call(server.url, '/v1/verify', { key: 'a-wrong-key-0123456789', body: claimOf('001090000101') });
      expect(refused.status).toBe(401);
      const health = await call(server.url, '/healthz');

      const shed = await lineWhere(server.logs, (l) => l.requestId === overloaded.headers.get('x-request-id'));
      expect(shed).toMatchObject({ level: 'info', msg: 'refused', route: '/v1/verify', status: 503, code: 'OVERLOADED', client: 'bank-a' });
      const four = await lineWhere(server.logs, (l) => l.requestId === refused.headers.get('x-request-id'));
      expect(four).toMatchObject({ level: 'info', msg: 'refused', status: 401, code: 'UNAUTHORIZED' });
      const ok = await lineWhere(server.logs, (l) => l.requestId === health.headers.get('x-request-id'));
      expect(ok).toMatchObject({ level: 'debug', msg: 'answered', route: '/healthz', status: 200, ms: expect.any(Number) });

      const text = JSON.stringify(server.logs());
      for (const personal of ['001090000101', 'Nguy', '1990-05-17', KEYS.full, 'a-wrong-key']) expect(text).not.toContain(personal);
    } finally {
      await server.stop();
    }
  });

  it('logs no 4xx, 2xx or shedding refusal at the default level', async () => {
    const server = await startCli('serve', ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir), '--max-inflight', '0']);
    let stopped = false;
    try {
      const refused = await call(server.url, '/v1/verify', { key: 'a-wrong-key-0123456789', body: claimOf('001090000101') });
      expect(refused.status).toBe(401);
      await call(server.url, '/healthz');
      const overloaded = await call(server.url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') });
      expect(overloaded.status).toBe(503);
      // Lines leave the threads before the server stops: once it has, every line it would write is here.
      expect(await server.stop()).toBe(0);
      stopped = true;
      expect(server.logs().some((l) => l.msg === 'listening')).toBe(true);
      expect(server.logs().filter((l) => l.requestId !== undefined)).toEqual([]);
    } finally {
      if (!stopped) await server.stop();
    }
  });

});
