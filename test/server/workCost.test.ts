import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../src/clients/clients.js';
import { fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, startTestServer, writeClientsFile, type TestServer } from '../helpers/server.js';

/**
 * A search's rate is charged by the work it asks for: eight words that are no known name
 * reach 324 name blocks, nine times a real name's, and were once charged as one request,
 * answered or refused. Now each is charged four (96 blocks a request), so a client at 10
 * requests a second can send three such searches, not ten, before it is refused from its
 * headers (a request is let in while one token is left, then charged its work).
 */
const KEY = 'key-costly-searches-0123456789';
const PLAIN = 'key-plain-searches-0123456789';
let index: TempIndex;
let server: TestServer;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  const clientsFile = join(index.dir, 'cost-clients.json');
  const usual = JSON.parse(readFileSync(writeClientsFile(index.dir), 'utf8')).clients;
  const costly = { id: 'costly', keySha256: sha256Hex(KEY), scopes: ['demographic'], ratePerSecond: 0.001, burst: 10, consentRequired: false, emptySearchesPerName: 1e9, emptySearchesPerDate: 1e9, emptySearchesPerHour: 1e9 };
  writeFileSync(clientsFile, JSON.stringify({ clients: [...usual, costly, { ...costly, id: 'plain', keySha256: sha256Hex(PLAIN) }] }));
  server = await startTestServer(index, { clientsFile });
});
afterAll(async () => {
  await server?.close();
  index?.remove();
});

const search = (fullName: string) => call(server.url, '/v1/verify/demographic', { key: KEY, body: { fullName, dateOfBirth: '1990-05-17' } });

describe('a search charged by its lookups', () => {
  it('lets a burst of 10 pay for three searches of eight unknown words, then refuses from the headers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await search(`Qua Xe Bi Lo Mu Ty Zo Ke${'e'.repeat(i)}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('charges a real name as one request', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await call(server.url, '/v1/verify/demographic', { key: PLAIN, body: { fullName: 'Nguyễn Văn An', dateOfBirth: `1990-05-${String(10 + i)}` } })).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
  });

});
