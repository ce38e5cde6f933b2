import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { identityClient } from '../../examples/client/client.js';
import { CLIENT_TYPES_FILE, clientTypesText, CONTRACT_FILE, contractText } from '../../examples/generate.js';
import { CONTRACT } from '../helpers/contract.js';
import { fixtureServer, KEYS } from '../helpers/server.js';

/**
 * The client a bank would generate from /openapi.json (openapi-typescript types,
 * openapi-fetch calls), driven against a real server through every operation of the
 * document; each answer is checked against the document too.
 */
const current = fixtureServer();
const client = (key: string = KEYS.full) => identityClient(current.server.url, key);

describe('the generated client', () => {
  it('is generated from the contract as committed: openapi.json and examples/client/api.d.ts are current', async () => {
    expect(readFileSync(CONTRACT_FILE, 'utf8')).toBe(contractText());
    expect(readFileSync(CLIENT_TYPES_FILE, 'utf8')).toBe(await clientTypesText());
  });

  it('covers every operation of the document', () => {
    const operations = Object.values(CONTRACT.doc.paths).flatMap((item) => Object.values(item).map((op) => (op as { operationId: string }).operationId));
    expect(operations.sort()).toEqual(['applyChanges', 'health', 'listChanges', 'metrics', 'openApiDocument', 'readiness', 'searchByNameAndBirthDate', 'verify', 'verifyBatch']);
  });

  it('verify, searchByNameAndBirthDate, verifyBatch', async () => {
    const claim = { idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' };
    const verified = await client().POST('/v1/verify', { body: claim });
    expect(verified.response.status).toBe(200);
    expect(verified.data?.result).toBe('match');
    CONTRACT.conforms({ status: 200, headers: verified.response.headers, body: verified.data }, '/v1/verify', 'post');

    const refused = await client().POST('/v1/verify', { body: { ...claim, dateOfBirth: '1990' } });
    expect(refused.response.status).toBe(422);
    expect(refused.error?.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'dateOfBirth' });

    const found = await client().POST('/v1/verify/demographic', { body: { fullName: 'Trần Thị Thủy', dateOfBirth: '1990-11-02' } });
    expect(found.data).toMatchObject({ result: 'unique', total: 1 });
    CONTRACT.conforms({ status: 200, headers: found.response.headers, body: found.data }, '/v1/verify/demographic', 'post');

    const batch = await client().POST('/v1/verify/batch', { body: { items: [{ type: 'id', ...claim }, { type: 'demographic', fullName: 'Trần Thị Thủy', dateOfBirth: '1990-11-02' }] } });
    expect(batch.data?.results).toHaveLength(2);
    CONTRACT.conforms({ status: 200, headers: batch.response.headers, body: batch.data }, '/v1/verify/batch', 'post');
  });

  it('applyChanges, listChanges', async () => {
    const applied = await client(KEYS.registrar).POST('/v1/records', { body: { idempotencyKey: 'client-1', changes: [{ op: 'revokeCard', idNumber: '001090000101' }] } });
    expect(applied.data).toMatchObject({ applied: 1, replayed: false });
    CONTRACT.conforms({ status: 200, headers: applied.response.headers, body: applied.data }, '/v1/records', 'post');
    const page = await client(KEYS.registrar).GET('/v1/changes', { params: { query: { after: 0, limit: 10 } } });
    expect(page.data?.changes.at(-1)).toMatchObject({ op: 'revokeCard', idNumber: '001090000101' });
    CONTRACT.conforms({ status: 200, headers: page.response.headers, body: page.data }, '/v1/changes', 'get');
    const forbidden = await client().GET('/v1/changes', { params: { query: {} } });
    expect(forbidden.error?.error.code).toBe('FORBIDDEN');
  });

  it('health, readiness, metrics, openApiDocument', async () => {
    expect((await client().GET('/healthz')).data).toEqual({ status: 'ok' });
    expect((await client().GET('/readyz')).data).toMatchObject({ status: 'ready' });
    const metrics = await client().GET('/metrics', { parseAs: 'text' });
    expect(metrics.data).toMatch(/^# HELP /m);
    const doc = await client().GET('/openapi.json');
    expect(doc.data).toEqual(CONTRACT.doc);
  });
});
