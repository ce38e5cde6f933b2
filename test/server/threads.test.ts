import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeStatus } from '../../src/runtime.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../src/clients/clients.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, rawExchange, startTestServer, writeClientsFile, type TestServer } from '../helpers/server.js';

/**
 * One App per thread on a shared port: whichever thread the kernel hands a connection
 * to, a client is one client. Each request here goes on a connection of its own, so that
 * they spread over the threads as a client's connection pool would.
 */
let index: TempIndex;
let server: TestServer;
const GUESSER = 'key-guesser-0123456789';
const THREADS = 2;

beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  const clientsFile = join(index.dir, 'threads-clients.json');
  const usual = JSON.parse(readFileSync(writeClientsFile(index.dir), 'utf8')).clients;
  const guesser = { id: 'guesser', keySha256: sha256Hex(GUESSER), scopes: ['verify'], ratePerSecond: 1e6, burst: 1e6, consentRequired: false };
  writeFileSync(clientsFile, JSON.stringify({ clients: [...usual, guesser] }));
  server = await startTestServer(index, { clientsFile, threads: THREADS });
});
afterAll(async () => {
  await server.close();
  index.remove();
});

/** POST on a new connection, closed after the answer. */
async function postAlone(path: string, key: string, body: object): Promise<{ status: number; requestId: string; body: any }> {
  const json = JSON.stringify(body);
  const { text } = await rawExchange(server.port, [
    `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  ]);
  const [head, payload] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
  return { status: Number(head.slice(9, 12)), requestId: /x-request-id: *(\S+)/i.exec(head)?.[1] ?? '', body: JSON.parse(payload) };
}

describe('serving on threads that share a port', () => {
  it('answers from every thread: connections are spread over them', async () => {
    const replies = await Promise.all(Array.from({ length: 24 }, () => postAlone('/v1/verify', KEYS.full, claimOf('001090000101'))));
    expect(replies.every((r) => r.status === 200 && r.body.result === 'match')).toBe(true);
    // A request id starts with its thread's boot id.
    const threads = new Set(replies.map((r) => r.requestId.split('-')[0]));
    expect(threads.size).toBe(THREADS);
  });

  it('grants a client its burst once, not once per thread', async () => {
    // portal-c: a burst of 1, then one request per 1,000 s.
    const replies = await Promise.all(Array.from({ length: 12 }, () => postAlone('/v1/verify', KEYS.limited, claimOf('001090000101'))));
    expect(replies.map((r) => r.status).sort()).toEqual([200, ...Array(11).fill(429)]);
  });

  it('counts a guesser on every connection together: 5 mismatches about one citizen, then refused, a right guess included', async () => {
    const wrongNames = ['Trần Văn Bình', 'Lê Văn Cường', 'Phạm Văn Dũng', 'Hoàng Văn Em', 'Vũ Văn Giang', 'Đặng Văn Hải', 'Bùi Văn Khoa'];
    const guesses = wrongNames.map((fullName) => ({ ...claimOf('001090000101'), fullName }));
    const replies = await Promise.all(guesses.map((claim) => postAlone('/v1/verify', GUESSER, claim)));
    const outcomes = replies.map((r) => r.body.result ?? r.body.error.code).sort();
    expect(outcomes).toEqual(['TOO_MANY_MISMATCHES', 'TOO_MANY_MISMATCHES', ...Array(5).fill('mismatch')]);
    const right = await Promise.all(Array.from({ length: 4 }, () => postAlone('/v1/verify', GUESSER, claimOf('001090000101'))));
    expect(right.map((r) => r.body.error?.code)).toEqual(Array(4).fill('TOO_MANY_MISMATCHES'));
  });

  it('shows on /metrics the requests of every thread, and the process once', async () => {
    const before = await call(server.url, '/metrics');
    const count = (text: string) => Number(/idv_http_requests_total\{route="\/v1\/verify\/demographic",status="200"\} (\d+)/.exec(text)?.[1] ?? 0);
    const claim = claimOf('079190000202');
    await Promise.all(Array.from({ length: 10 }, () => postAlone('/v1/verify/demographic', KEYS.full, { fullName: claim.fullName, dateOfBirth: claim.dateOfBirth })));
    const after = await call(server.url, '/metrics');
    expect(count(after.body) - count(before.body)).toBe(10);
    expect(after.body.match(/^idv_process_cpu_seconds_total /gm)).toHaveLength(1);
    expect(after.body).toMatch(/^idv_ready 1$/m);
    // Once for the process, whichever thread is asked: 1 on a Node release past its end of life (Node 20 here).
    expect(after.body).toMatch(new RegExp(`^idv_runtime_end_of_life ${runtimeStatus().pastEndOfLife ? 1 : 0}$`, 'm'));
    expect(after.body).toMatch(/^idv_index_records \d+$/m);
  });
});
