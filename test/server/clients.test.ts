import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../../src/clients/clients.js';
import { idv } from '../helpers/cli.js';
import { fixture, tempIndex, type TempIndex, claimOf } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, writeClientsFile as writeTestClients, type TestServer } from '../helpers/server.js';

let index: TempIndex;
let server: TestServer;
let clientsFile: string;
const KEY = { tight: 'key-tight-0123456789', quota: 'key-quota-0123456789' };
const events: Record<string, unknown>[] = [];
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  clientsFile = join(index.dir, 'edited-clients.json');
  // The usual test clients, and two whose limits are the subject here.
  const usual = JSON.parse(readFileSync(writeTestClients(index.dir), 'utf8')).clients;
  writeFileSync(
    clientsFile,
    JSON.stringify({
      clients: [
        ...usual,
        { id: 'tight', keySha256: sha256Hex(KEY.tight), scopes: ['verify', 'batch'], ratePerSecond: 1, burst: 5, consentRequired: false },
        { id: 'quota', keySha256: sha256Hex(KEY.quota), scopes: ['verify'], ratePerSecond: 1000, dailyQuota: 3, consentRequired: false },
      ],
    }),
  );
  server = await startTestServer(index, { clientsFile }, (event) => events.push(event));
});
afterAll(async () => {
  await server.close();
  index.remove();
});

const verify = (key: string) => call(server.url, '/v1/verify', { key, body: claimOf('001090000101') });
const batchOf = (key: string, n: number) => call(server.url, '/v1/verify/batch', { key, body: { items: Array.from({ length: n }, () => ({ type: 'id', ...claimOf('001090000101') })) } });

/** Polls until `ok` holds, and returns how long it took (ms); fails after 2 s. */
async function within(ok: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await ok())) {
    if (Date.now() - started > 2000) throw new Error('not within 2 s');
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

describe('client limits', () => {
  it('counts each batch item against the rate, and says when to come back', async () => {
    expect((await batchOf(KEY.tight, 3)).status).toBe(200);
    const refused = await batchOf(KEY.tight, 3);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(refused.headers.get('retry-after')).toBe('1');
  });

  it('refuses past the daily quota, until the next UTC day', async () => {
    for (let i = 0; i < 3; i++) expect((await verify(KEY.quota)).status).toBe(200);
    const refused = await verify(KEY.quota);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('daily quota');
    const untilMidnight = Math.ceil((Math.ceil(Date.now() / 86_400_000) * 86_400_000 - Date.now()) / 1000);
    expect(Math.abs(Number(refused.headers.get('retry-after')) - untilMidnight)).toBeLessThanOrEqual(2);
  });
});

describe('idv clients edits the file a running server follows', () => {
  it('adds, rotates and revokes keys, each in force within a second', async () => {
    const added = idv('clients', 'add', '--file', clientsFile, '--id', 'telco-z', '--scopes', 'verify', '--rate', '50', '--consent-optional');
    expect(added.status, added.stderr).toBe(0);
    const { key } = JSON.parse(added.stdout);
    expect(readFileSync(clientsFile, 'utf8')).not.toContain(key);
    expect(statSync(clientsFile).mode & 0o777).toBe(0o600);
    expect(await within(async () => (await verify(key)).status === 200)).toBeLessThan(1000);

    const rotated = JSON.parse(idv('clients', 'rotate', '--file', clientsFile, '--id', 'telco-z').stdout).key;
    expect(await within(async () => (await verify(key)).status === 401 && (await verify(rotated)).status === 200)).toBeLessThan(1000);

    const listed = idv('clients', 'list', '--file', clientsFile).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(listed.find((c) => c.id === 'telco-z')).toEqual({ id: 'telco-z', scopes: ['verify'], ratePerSecond: 50, consentRequired: false, keyFingerprint: sha256Hex(rotated).slice(0, 8) });

    expect(idv('clients', 'revoke', '--file', clientsFile, '--id', 'telco-z').status).toBe(0);
    expect(await within(async () => (await verify(rotated)).status === 401)).toBeLessThan(1000);
    expect(idv('clients', 'revoke', '--file', clientsFile, '--id', 'telco-z').stderr).toContain('no client "telco-z"');
  });

  it('writes through a symlinked file: the link stays a link, its target holds the new entry', () => {
    const target = join(index.dir, 'managed', 'clients.json');
    mkdirSync(dirname(target));
    writeFileSync(target, JSON.stringify({ clients: [] }), { mode: 0o600 });
    const link = join(index.dir, 'clients-link.json');
    symlinkSync(target, link);
    const added = idv('clients', 'add', '--file', link, '--id', 'portal-y', '--scopes', 'verify');
    expect(added.status, added.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(target, 'utf8')).clients.map((c: { id: string }) => c.id)).toEqual(['portal-y']);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('keeps the clients it has when the file is broken', async () => {
    const good = readFileSync(clientsFile, 'utf8');
    const before = events.length;
    writeFileSync(clientsFile, '{"clients": [');
    // Once the server has read the broken file (it says so), not after a guessed delay.
    const refused = () => events.slice(before).some((e) => e.msg === 'clients file not reloaded: the clients already loaded stay in force');
    await vi.waitFor(() => expect(refused()).toBe(true), { timeout: 5000, interval: 20 });
    expect((await verify(KEY.tight)).status).not.toBe(401);
    writeFileSync(clientsFile, good);
  });
});

describe('serve without clients', () => {
  it('refuses to start unless --demo is given', () => {
    const r = idv('serve', '--index', index.indexDir, '--secret-file', index.secretFile, '--port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('clientsFile: required (give --clients FILE; --demo starts a throwaway demo client instead)');
  });
});

describe('purpose and consent', () => {
  const consenting = (body: object) => call(server.url, '/v1/verify', { key: KEYS.consenting, body: { ...claimOf('001090000101'), fullName: 'Nguyễn Văn An', ...body } });

  it('refuses a verification without purpose or consent reference from a client that needs them, or with a purpose it is not allowed', async () => {
    const cases: [object, string, RegExp][] = [
      [{ consentRef: 'c-1' }, 'purpose', /purpose is required for this API key/],
      [{ purpose: 'account-opening' }, 'consentRef', /consentRef is required for this API key/],
      [{ purpose: 'marketing', consentRef: 'c-1' }, 'purpose', /purpose must be one of those allowed to this API key: account-opening, kyc-refresh/],
    ];
    for (const [body, field, message] of cases) {
      const reply = await consenting(body);
      expect(reply.status).toBe(422);
      expect(reply.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field, message: expect.stringMatching(message) });
    }
    expect((await consenting({ purpose: 'kyc-refresh', consentRef: 'c-1' })).body.result).toBe('match');
  });

  it("takes a batch's purpose and consent for items that give none, and refuses an item whose purpose is not allowed", async () => {
    const reply = await call(server.url, '/v1/verify/batch', {
      key: KEYS.consenting,
      body: {
        purpose: 'account-opening',
        consentRef: 'batch-7',
        items: [
          { type: 'id', ...claimOf('001090000101'), fullName: 'Nguyễn Văn An' },
          { type: 'id', ...claimOf('001090000101'), fullName: 'Nguyễn Văn An', purpose: 'marketing' },
        ],
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.results[0].result).toBe('match');
    expect(reply.body.results[1].error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'purpose' });
  });
});
