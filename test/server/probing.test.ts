import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../src/clients/clients.js';
import { GIVEN_ROWS } from '../../src/domain/nameWords.js';
import { fixture, tempIndex, type TempIndex, claimOf } from '../helpers/fixtures.js';
import { call, startTestServer, writeClientsFile, type TestServer } from '../helpers/server.js';

/**
 * The attacks of an ordinary client key with every scope, as found on the service before
 * these limits (see the privacy issue): each is refused long before it learns anything.
 */
let index: TempIndex;
let server: TestServer;
const ATTACKER = 'key-attacker-0123456789';
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  const clientsFile = join(index.dir, 'probing-clients.json');
  const usual = JSON.parse(readFileSync(writeClientsFile(index.dir), 'utf8')).clients;
  // Server defaults for rates and probing; consent optional so the batches stay short to write.
  const attacker = { id: 'attacker', keySha256: sha256Hex(ATTACKER), scopes: ['verify', 'demographic', 'batch'], ratePerSecond: 1e6, burst: 1e6, consentRequired: false };
  writeFileSync(clientsFile, JSON.stringify({ clients: [...usual, attacker] }));
  server = await startTestServer(index, { clientsFile, auditDir: join(index.dir, 'audit'), auditFlushMs: 50 });
});
afterAll(async () => {
  await server.close();
  index.remove();
});

const batch = async (items: object[]) => {
  const reply = await call(server.url, '/v1/verify/batch', { key: ATTACKER, body: { items } });
  expect(reply.status).toBe(200);
  return reply.body.results as { result?: string; error?: { code: string }; fields?: Record<string, { score?: number }> }[];
};
const codes = (results: { result?: string; error?: { code: string } }[]) => results.map((r) => r.result ?? r.error!.code);

describe('guessing attacks are refused', () => {
  it('ID number alone, or with a year or a month: refused before any lookup, so nothing about the holder comes back', async () => {
    const items = [
      { type: 'id', idNumber: '036045000303' },
      { type: 'id', idNumber: '036045000303', dateOfBirth: '1945' },
      ...Array.from({ length: 12 }, (_, m) => ({ type: 'id', idNumber: '036045000303', fullName: 'Lê Văn Hòa', dateOfBirth: `1945-${String(m + 1).padStart(2, '0')}` })),
      { type: 'id', idNumber: '036045000303', fullName: 'Hòa', dateOfBirth: '1945-06-15' },
    ];
    const results = await batch(items);
    expect(codes(results).every((c) => c === 'VALIDATION_FAILED')).toBe(true);
    expect(JSON.stringify(results)).not.toMatch(/alive|card|match/);
    // A guessed name and date learn nothing of the holder either: no status with a mismatch.
    const wrong = await batch([{ type: 'id', idNumber: '036045000303', fullName: 'Nguyễn Văn An', dateOfBirth: '1945-01-01' }]);
    expect(wrong[0]).toEqual({ type: 'id', result: 'mismatch', fields: { fullName: { match: false, level: 'none' }, dateOfBirth: { match: true, precision: 'year' } } });
  });

  it('ID number known, name guessed word by word from the public tables: no score, and refused after 5 mismatches', async () => {
    const given = GIVEN_ROWS.map((row) => row.given).slice(0, 300);
    expect(given).toContain('An');
    const items = given.map((word) => ({ type: 'id', ...claimOf('001090000101'), fullName: `Nguyễn Văn ${word}` }));
    const results = await batch(items);
    const firstRefused = codes(results).indexOf('TOO_MANY_MISMATCHES');
    expect(codes(results).slice(0, firstRefused).filter((c) => c === 'mismatch')).toHaveLength(5);
    expect(codes(results).slice(firstRefused).every((c) => c === 'TOO_MANY_MISMATCHES')).toBe(true);
    // The right guess ("An") comes after the limit: it is refused like the others.
    expect(given.indexOf('An')).toBeGreaterThan(firstRefused);
    expect(JSON.stringify(results)).not.toContain('score');
  });

  it('ID number known, date of birth guessed: refused after 5 mismatches, the right date included', async () => {
    const dates = Array.from({ length: 60 }, (_, i) => `1990-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + Math.floor(i / 12)).padStart(2, '0')}`);
    dates.splice(40, 0, '1990-11-02');
    const results = await batch(dates.map((d) => ({ type: 'id', ...claimOf('079190000202'), fullName: 'Trần Thị Thủy', dateOfBirth: d })));
    expect(codes(results).filter((c) => c === 'match' || c === 'partial')).toEqual([]);
    expect(codes(results).filter((c) => c === 'mismatch')).toHaveLength(5);
  });

  it('name known, date of birth searched day by day: refused after 20 searches that found nobody', async () => {
    const days = Array.from({ length: 400 }, (_, i) => new Date(Date.UTC(1995, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    expect(days).toContain('1995-08-08');
    const results = await batch(days.map((d) => ({ type: 'demographic', fullName: 'Nguyễn Thị Hương', dateOfBirth: d })));
    expect(codes(results).filter((c) => c === 'none')).toHaveLength(20);
    expect(codes(results).filter((c) => c === 'unique' || c === 'ambiguous')).toEqual([]);
    expect(codes(results).at(-1)).toBe('TOO_MANY_SEARCHES');
  });

  it('name known, date searched with the middle name varied or the order swapped: still one person, refused after 20', async () => {
    const spellings = ['Trần Thị Thủy', 'Trần Văn Thủy', 'Thủy Trần', 'Tran Ngoc Thuy', 'TRẦN THANH THỦY', 'Trần Thủy'];
    const days = Array.from({ length: 360 }, (_, i) => new Date(Date.UTC(1990, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    expect(days.indexOf('1990-11-02')).toBeGreaterThan(20);
    const results = await batch(days.map((d, i) => ({ type: 'demographic', fullName: spellings[i % spellings.length], dateOfBirth: d })));
    expect(codes(results).filter((c) => c === 'none')).toHaveLength(20);
    expect(codes(results).filter((c) => c === 'unique' || c === 'ambiguous')).toEqual([]);
    expect(codes(results).slice(20).every((c) => c === 'TOO_MANY_SEARCHES')).toBe(true);
  });

  it('ID number guessed digit by digit: refused after 100 numbers that belong to nobody, the right one included', async () => {
    const serials = Array.from({ length: 1000 }, (_, i) => `001090000${String(i).padStart(3, '0')}`);
    expect(serials).toContain('001090000505');
    const results = await batch(serials.map((idNumber) => ({ type: 'id', idNumber, fullName: 'Hoàng Đức Minh', dateOfBirth: '1985-07-20' })));
    expect(codes(results).filter((c) => c === 'not_found')).toHaveLength(100);
    expect(codes(results).slice(505).every((c) => c === 'TOO_MANY_NOT_FOUND')).toBe(true);
    const refused = await call(server.url, '/v1/verify', { key: ATTACKER, body: claimOf('001085000505') });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('TOO_MANY_NOT_FOUND');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
  });

  it('counts each refusal by its code in the metrics the alert watches', async () => {
    const metrics = (await call(server.url, '/metrics')).body as string;
    const count = (code: string) => Number(new RegExp(`^idv_errors_total\\{code="${code}"\\} (\\d+)`, 'm').exec(metrics)?.[1]);
    for (const code of ['TOO_MANY_MISMATCHES', 'TOO_MANY_SEARCHES', 'TOO_MANY_NOT_FOUND']) expect(count(code)).toBeGreaterThan(0);
  });

  it('leaves other clients, and other citizens of the same client, unaffected', async () => {
    const other = await call(server.url, '/v1/verify', { key: 'test-key-full-0123456789', body: claimOf('001090000101') });
    expect(other.body.result).toBe('match');
  });
});
