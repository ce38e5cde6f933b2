import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../src/clients/clients.js';
import { GIVEN_ROWS, SURNAME_ROWS } from '../../src/domain/nameWords.js';
import { fixture, tempIndex, type TempIndex, claimOf } from '../helpers/fixtures.js';
import { call, startTestServer, writeClientsFile, type TestServer } from '../helpers/server.js';

/**
 * The attacks that got through the first probing limits, each by an ordinary key at the
 * server's default limits: the name's form rotated, many names on one date, province and
 * gender narrowed, a citizen's legacy number beside the ID number. Each is stopped before
 * the answer it was after.
 */
let index: TempIndex;
let server: TestServer;
const KEYS = ['dob', 'name', 'place', 'legacy'].map((k) => `key-guesser-${k}-0123456789`);
const [DOB, NAME, PLACE, LEGACY] = KEYS;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  const clientsFile = join(index.dir, 'guessing-clients.json');
  const usual = JSON.parse(readFileSync(writeClientsFile(index.dir), 'utf8')).clients;
  // A rate that never refuses, so only the probing limits (the server's defaults) can.
  const guessers = KEYS.map((key, i) => ({ id: `guesser-${i}`, keySha256: sha256Hex(key), scopes: ['verify', 'demographic', 'batch'], ratePerSecond: 1e6, burst: 1e6, consentRequired: false }));
  writeFileSync(clientsFile, JSON.stringify({ clients: [...usual, ...guessers] }));
  server = await startTestServer(index, { clientsFile });
});
afterAll(async () => {
  await server.close();
  index.remove();
});

type Result = { result?: string; error?: { code: string } };
const batch = async (key: string, items: object[]) => {
  const reply = await call(server.url, '/v1/verify/batch', { key, body: { items } });
  expect(reply.status).toBe(200);
  return (reply.body.results as Result[]).map((r) => r.result ?? r.error!.code);
};
const days = (year: number) => Array.from({ length: 365 }, (_, i) => new Date(Date.UTC(year, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));

describe('guessing is counted by what it reaches, not by how it is spelt', () => {
  it('date of birth from a name: every day of the birth year, the name in a new form every few days, stopped within 20', async () => {
    // Trần Thị Thủy, female, province 079, born 1990 (all from her ID number); each form still finds her.
    const forms = ['Trần Thị Thủy', 'TrầnThị Thủy', 'Thủy Trần Thị', 'Thị Trần Thủy', 'Trầnn Thị Thủy', 'Tran Thi Thuyy', 'THỦY TRẦN'];
    for (const form of forms) expect(await batch(NAME, [{ type: 'demographic', fullName: form, dateOfBirth: '1990-11-02' }])).toEqual(['unique']);
    // From July on, so that the right day comes after 20 guesses but before 7 forms × 20.
    const dates = days(1990).slice(181);
    const right = dates.indexOf('1990-11-02');
    expect(right).toBeGreaterThan(20);
    expect(right).toBeLessThan(forms.length * 20);
    const items = dates.map((d, i) => ({ type: 'demographic', fullName: forms[Math.floor(i / 3) % forms.length], dateOfBirth: d, gender: 'female', provinceCode: '079' }));
    const codes = await batch(DOB, items);
    expect(codes.filter((c) => c === 'none').length).toBeLessThanOrEqual(20);
    expect(codes.slice(0, right).filter((c) => c === 'unique')).toEqual([]);
    expect(codes[right]).toBe('TOO_MANY_SEARCHES');
    expect(codes.slice(20).every((c) => c === 'TOO_MANY_SEARCHES')).toBe(true);
  });

  it('full name from a date of birth: (surname, given name) pairs of the public tables on one date, stopped within 20', async () => {
    const surnames = SURNAME_ROWS.slice(0, 30).map((r) => r.surname);
    const given = GIVEN_ROWS.slice(0, 60).map((r) => r.given);
    const guesses = surnames.flatMap((s) => given.map((g) => `${s} ${g}`));
    const right = guesses.indexOf('Trần Thủy');
    expect(right).toBeGreaterThan(20);
    const codes = await batch(NAME, guesses.slice(0, right + 1).map((fullName) => ({ type: 'demographic', fullName, dateOfBirth: '1990-11-02', gender: 'female', provinceCode: '079' })));
    expect(codes.filter((c) => c === 'none').length).toBeLessThanOrEqual(20);
    expect(codes.at(-1)).toBe('TOO_MANY_SEARCHES');
    expect(codes).not.toContain('unique');
  });

  it('province and gender from a name and a date: every province code with each gender, stopped within 20', async () => {
    const provinces = Array.from({ length: 96 }, (_, i) => String(i + 1).padStart(3, '0')).filter((p) => p !== '079');
    const tries = provinces.flatMap((provinceCode) => ['male', 'female'].map((gender) => ({ provinceCode, gender })));
    tries.splice(60, 0, { provinceCode: '079', gender: 'female' });
    const forms = ['Trần Thị Thủy', 'TrầnThị Thủy', 'Thủy Trần Thị', 'Thị Trần Thủy', 'Trầnn Thị Thủy', 'Tran Thi Thuyy', 'THỦY TRẦN'];
    const codes = await batch(PLACE, tries.map((t, i) => ({ type: 'demographic', fullName: forms[i % forms.length], dateOfBirth: '1990-11-02', ...t })));
    expect(codes.filter((c) => c === 'none').length).toBeLessThanOrEqual(20);
    expect(codes[60]).toBe('TOO_MANY_SEARCHES');
    expect(codes).not.toContain('unique');
  });

  it('mismatches count against the citizen, whichever number identified them: the legacy number adds none', async () => {
    const wrongDates = Array.from({ length: 12 }, (_, i) => `1990-01-${String(i + 1).padStart(2, '0')}`);
    const claims = wrongDates.map((dateOfBirth, i) => ({ type: 'id', idNumber: i % 2 ? '012345678' : '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth }));
    const codes = await batch(LEGACY, [...claims, { type: 'id', ...claimOf('001090000101') }, { type: 'id', ...claimOf('001090000101'), idNumber: '012345678' }]);
    expect(codes.filter((c) => c === 'mismatch')).toHaveLength(5);
    expect(codes.slice(5).every((c) => c === 'TOO_MANY_MISMATCHES')).toBe(true);
  });

  it('leaves an ordinary search by another name and date to the same key alone while under the hour budget', async () => {
    expect(await batch(PLACE, [{ type: 'demographic', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' }])).toEqual(['unique']);
  });
});
