import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyTrail } from '../../src/audit/reader.js';
import { auditFiles } from '../../src/audit/trail.js';
import { idv } from '../helpers/cli.js';
import { fixture, tempIndex, type TempIndex, claimOf } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, type TestServer } from '../helpers/server.js';

let index: TempIndex;
let server: TestServer;
let auditDir: string;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  auditDir = join(index.dir, 'audit');
  server = await startTestServer(index, { auditDir, auditFlushMs: 50 });
});
afterAll(() => index.remove());

const trailText = () => auditFiles(auditDir).map((f) => readFileSync(join(auditDir, f), 'utf8')).join('');
const records = () => trailText().split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('every decision is in the audit trail', () => {
  it('records who verified whom, why, and the answer, within a second of the answer', async () => {
    const reply = await call(server.url, '/v1/verify', {
      key: KEYS.full,
      body: { ...claimOf('001090000101'), fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17', purpose: 'account-opening', consentRef: 'c-2026-0042' },
    });
    expect(reply.body.result).toBe('match');
    // Written within the flush period (200 ms): looked for for 1 s.
    const found = await vi.waitFor(() => {
      const record = records().find((r) => r.requestId === reply.body.requestId);
      expect(record, 'the decision in the trail').toBeDefined();
      return record;
    }, { timeout: 1000, interval: 20 });
    expect(found).toMatchObject({
      kind: 'decision', client: 'bank-a', endpoint: '/v1/verify', type: 'id', purpose: 'account-opening', consentRef: expect.stringMatching(/^c[0-9a-f]{31}$/),
      result: 'match', status: 200, subject: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(trailText()).not.toContain('c-2026-0042');
    expect(found!.latencyMs).toBeGreaterThan(0);
  });

  it('records refusals with their code, and each batch item on its own', async () => {
    await call(server.url, '/v1/verify', { body: claimOf('079190000202') });
    await call(server.url, '/v1/verify', { key: KEYS.full, body: { ...claimOf('079190000202'), fullname: 'x' } });
    const batch = await call(server.url, '/v1/verify/batch', {
      key: KEYS.full,
      body: {
        purpose: 'kyc-refresh',
        items: [
          { type: 'id', ...claimOf('079190000202'), fullName: 'Trần Thị Thủy', consentRef: 'c-7' },
          { type: 'id', idNumber: '12' },
          { type: 'demographic', fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08' },
          // A search that finds the citizen, with a consent reference that holds personal data.
          { type: 'demographic', fullName: 'Tran Thi Thuy', dateOfBirth: '1990-11-02', consentRef: '079190000202 Trần Thị Thủy 1990-11-02' },
        ],
      },
    });
    expect(batch.status).toBe(200);
    await server.close();
    const all = records();
    expect(all.find((r) => r.status === 401)).toMatchObject({ kind: 'decision', client: null, endpoint: '/v1/verify', code: 'UNAUTHORIZED' });
    expect(all.find((r) => r.status === 422)).toMatchObject({ kind: 'decision', client: 'bank-a', code: 'VALIDATION_FAILED' });
    const items = all.filter((r) => r.requestId === batch.body.requestId);
    expect(items.map((r) => [r.kind, r.item, r.type, r.purpose, r.consentRef, r.result, r.code])).toEqual([
      ['decision', undefined, undefined, 'kyc-refresh', undefined, undefined, undefined],
      ['item', 0, 'id', 'kyc-refresh', expect.stringMatching(/^c[0-9a-f]{31}$/), 'match', undefined],
      ['item', 1, undefined, 'kyc-refresh', undefined, undefined, 'VALIDATION_FAILED'],
      ['item', 2, 'demographic', 'kyc-refresh', undefined, 'ambiguous', undefined],
      ['item', 3, 'demographic', 'kyc-refresh', expect.stringMatching(/^c[0-9a-f]{31}$/), 'unique', undefined],
    ]);
    // A search keeps whom it answered with: the candidates' keyed subjects.
    const search = items.find((r) => r.item === 3);
    expect(search.found).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/)]);
    expect(search).not.toHaveProperty('subject');
    expect(await verifyTrail(auditDir, index.secret)).toEqual({ files: 1, records: all.length, head: { seq: all.length, mac: all.at(-1).mac } });
  });

  it('holds no ID number or name, and answers "who checked my identity?"', () => {
    const text = trailText();
    for (const raw of ['001090000101', '079190000202', 'Nguyễn', 'Trần', 'Hương', '1990-11-02', 'Thuy']) expect(text).not.toContain(raw);
    const asked = idv('audit', 'query', '--id', '079190000202', '--index', index.indexDir, '--audit-dir', auditDir, '--secret-file', index.secretFile);
    expect(asked.status).toBe(0);
    const about = asked.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // The refusals above never got as far as a valid ID number; the batch item did, and so did the search that found them.
    expect(about.map((r) => [r.kind, r.client, r.endpoint, r.type, r.purpose, r.result])).toEqual([
      ['item', 'bank-a', '/v1/verify/batch', 'id', 'kyc-refresh', 'match'],
      ['item', 'bank-a', '/v1/verify/batch', 'demographic', 'kyc-refresh', 'unique'],
    ]);
    for (const r of about) expect(r).not.toHaveProperty('subject');
    expect(about[1]).not.toHaveProperty('found');
    // The consent reference finds its decision again, though the trail holds only its hash.
    const consented = idv('audit', 'query', '--consent-ref', '079190000202 Trần Thị Thủy 1990-11-02', '--index', index.indexDir, '--audit-dir', auditDir, '--secret-file', index.secretFile);
    expect(consented.status).toBe(0);
    expect(consented.stdout.trim().split('\n').map((l) => JSON.parse(l).item)).toEqual([3]);
    expect(idv('audit', 'verify', '--index', index.indexDir, '--audit-dir', auditDir, '--secret-file', index.secretFile).status).toBe(0);
  });
});
