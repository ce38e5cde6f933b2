import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { openApiDocument } from '../../src/contract/openapi.js';
import { RequestValidator } from '../../src/contract/validator.js';
import { ServiceError } from '../../src/errors.js';
import { ContractChecker, CONTRACT } from '../helpers/contract.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, type TestServer } from '../helpers/server.js';

/** One source: the limits the operator sets reach both the validators and /openapi.json. */
describe('limits from the config', () => {
  let index: TempIndex;
  let server: TestServer;
  const limits = { batchMaxItems: 5, maxChangesPerBatch: 3, minNameThreshold: 90 };
  beforeAll(async () => {
    index = await tempIndex({ input: fixture('citizens.ndjson') });
    server = await startTestServer(index, limits);
  });
  afterAll(async () => {
    await server.close();
    index.remove();
  });

  it('change what the server refuses and what its document says, together', async () => {
    const doc = (await call(server.url, '/openapi.json')).body;
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument({ ...DEFAULTS, ...limits }))));
    const schemas = doc.components.schemas;
    expect(schemas.BatchRequest.properties.items.maxItems).toBe(5);
    expect(schemas.RecordsRequest.properties.changes.maxItems).toBe(3);
    expect(schemas.VerifyRequest.properties.options.properties.nameThreshold).toMatchObject({ minimum: 90, default: 90 });
    // The default document says otherwise: the numbers are not literals.
    expect(CONTRACT.doc.components.schemas.BatchRequest).toMatchObject({ properties: { items: { maxItems: DEFAULTS.batchMaxItems } } });

    const items = (n: number) => ({ items: Array.from({ length: n }, () => ({ type: 'id', ...claimOf('001090000101') })) });
    expect((await call(server.url, '/v1/verify/batch', { key: KEYS.full, body: items(5) })).status).toBe(200);
    const six = await call(server.url, '/v1/verify/batch', { key: KEYS.full, body: items(6) });
    expect(six.body.error).toEqual({ code: 'VALIDATION_FAILED', field: 'items', message: 'items must hold at most 5 entries' });
    const low = await call(server.url, '/v1/verify', { key: KEYS.full, body: { ...claimOf('001090000101'), options: { nameThreshold: 89 } } });
    expect(low.body.error).toMatchObject({ field: 'options.nameThreshold', message: 'options.nameThreshold must be an integer from 90 to 100' });
    const changes = Array.from({ length: 4 }, () => ({ op: 'revokeCard', idNumber: '001090000101' }));
    const four = await call(server.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: 'four', changes } });
    expect(four.status).toBe(422);
    expect(four.body.error.message).toMatch(/at most 3/);
    // Every refusal is a documented answer of the document this server serves.
    const served = new ContractChecker(doc);
    for (const [reply, path] of [[six, '/v1/verify/batch'], [low, '/v1/verify'], [four, '/v1/records']] as const) expect(served.problems(path, 'post', reply.status, reply.body)).toEqual([]);
  });
});

describe('the document', () => {
  const schemas = CONTRACT.doc.components.schemas as Record<string, { properties: Record<string, Record<string, unknown>> }>;

  it('states the rules the validator enforces that no keyword can: dates from 1900, names in letters', () => {
    expect(schemas.VerifyRequest.properties.dateOfBirth).toMatchObject({ format: 'birth-date', 'x-rule': expect.stringMatching(/from 1900/) });
    expect(schemas.VerifyRequest.properties.fullName).toMatchObject({ format: 'full-name', 'x-rule': expect.stringMatching(/letters/) });
    expect(schemas.DemographicRequest.properties.dateOfBirth).toMatchObject({ format: 'birth-date' });
  });

  it('lists every code the verification handlers answer, NOT_READY and INVALID_MSGPACK included', () => {
    const responses = (CONTRACT.doc.paths['/v1/verify'].post as { responses: Record<string, { description: string }> }).responses;
    expect(responses['400'].description).toContain('INVALID_MSGPACK');
    expect(responses['503'].description).toContain('NOT_READY');
    expect(responses['503'].description).toContain('OVERLOADED');
  });
});

describe('the validator compiled from the contract', () => {
  const validator = new RequestValidator(DEFAULTS);
  const refusal = (body: unknown) => {
    try {
      validator.idItem(body);
    } catch (err) {
      return (err as ServiceError).toBody().error;
    }
    throw new Error('accepted');
  };

  it('reports the first problem in the order of the fields, an unknown field first', () => {
    expect(refusal({ ...claimOf('001090000101'), nickname: 'x', gender: 'm' })).toMatchObject({ field: 'nickname', message: 'unknown field "nickname"' });
    expect(refusal({ ...claimOf('001090000101'), options: { threshold: 1 } })).toMatchObject({ field: 'options.threshold', message: 'unknown field "options.threshold"' });
    expect(refusal({ idNumber: '12', gender: 'm' })).toMatchObject({ field: 'idNumber', message: 'idNumber must be a string of 12 digits, or of 9 for a legacy number' });
    expect(refusal({ idNumber: '001090000101', fullName: 'An' })).toMatchObject({ field: 'dateOfBirth', message: expect.stringMatching(/^dateOfBirth is required/) });
    expect(refusal({ idNumber: '001090000101' })).toMatchObject({ field: 'fullName', message: expect.stringMatching(/^fullName and dateOfBirth are required/) });
    expect(refusal({ fullName: 'Nguyễn An', dateOfBirth: '1990-05-17' })).toMatchObject({ field: 'idNumber', message: 'idNumber (or candidateRef) is required' });
    expect(refusal({ ...claimOf('001090000101'), candidateRef: 'abc' })).toMatchObject({ field: 'candidateRef', message: 'give idNumber or candidateRef, not both' });
    expect(refusal([1])).toMatchObject({ field: 'body', message: 'body must be an object' });
  });

  it('states the rules a keyword cannot, as named formats, each with its own message', () => {
    const cases: [object, string, string][] = [
      [{ fullName: '12 34' }, 'fullName', 'fullName must contain letters'],
      [{ fullName: 'Nguyễn\u0000 An' }, 'fullName', 'fullName must be text: no control characters, unpaired surrogates or bytes that are not UTF-8'],
      [{ dateOfBirth: '1899-12-31' }, 'dateOfBirth', 'dateOfBirth must be a valid YYYY-MM-DD from 1900'],
      [{ dateOfBirth: '1990-05' }, 'dateOfBirth', 'dateOfBirth must be the full date, YYYY-MM-DD: a year or a month alone is not a claim'],
      [{ idNumber: '999090000101' }, 'idNumber', 'idNumber digits 1-3 are not a province or country code'],
      [{ gender: 'm' }, 'gender', 'gender must be "male" or "female"'],
      [{ placeOfOrigin: 'x'.repeat(201) }, 'placeOfOrigin', 'placeOfOrigin must be at most 200 characters'],
      [{ consentRef: '   ' }, 'consentRef', 'consentRef must not be blank'],
      [{ consentRef: 'a\u0007' }, 'consentRef', 'consentRef must be text: no control characters, unpaired surrogates or bytes that are not UTF-8'],
      [{ cardIssueDate: '2021-02-30' }, 'cardIssueDate', 'cardIssueDate must be a valid YYYY-MM-DD'],
      [{ options: { nameThreshold: 50.5 } }, 'options.nameThreshold', 'options.nameThreshold must be an integer from 80 to 100'],
    ];
    for (const [change, field, message] of cases) expect(refusal({ ...claimOf('001090000101'), ...change }), message).toEqual({ code: 'VALIDATION_FAILED', field, message });
  });

  it('turns a valid body into the work item, with the defaults of the contract', () => {
    const { item, context } = validator.idItem({ ...claimOf('001090000101'), gender: 'male', purpose: 'kyc' });
    expect(item).toEqual({ type: 'id', claim: { ...claimOf('001090000101'), gender: 'male' }, options: { nameThreshold: 85, maxCandidates: 20 } });
    expect(context).toEqual({ purpose: 'kyc' });
  });
});

describe('the checker of answers', () => {
  const good = { requestId: 'r1', result: 'match', fields: { fullName: { match: true, level: 'exact' } }, status: { alive: true, card: 'valid' } };

  it('accepts a conforming answer and finds each kind of departure, nested ones too', () => {
    expect(CONTRACT.problems('/v1/verify', 'post', 200, good)).toEqual([]);
    expect(CONTRACT.problems('/v1/verify', 'post', 200, { ...good, extra: 1 })).not.toEqual([]);
    expect(CONTRACT.problems('/v1/verify', 'post', 200, { ...good, result: 'maybe' })).not.toEqual([]);
    expect(CONTRACT.problems('/v1/verify', 'post', 200, { requestId: 'r1', result: 'match' })).not.toEqual([]);
    expect(CONTRACT.problems('/v1/verify', 'post', 200, { ...good, fields: { fullName: { match: true, level: 'exact', score: 101 } } })).not.toEqual([]);
    expect(CONTRACT.problems('/v1/verify', 'post', 422, { error: { code: 'NO_SUCH_CODE', message: 'x' } })).not.toEqual([]);
    expect(CONTRACT.problems('/v1/verify', 'post', 404, { error: { code: 'NOT_FOUND', message: 'x' } })).toEqual(['POST /v1/verify does not document status 404']);
    const change = { v: 1, seq: 1, time: 'yesterday', batch: 'b', client: 'c', op: 'delete', idNumber: '001090000101', record: null };
    const page = { requestId: 'r', build: 'b', lastSequence: 1, next: 1, changes: [change] };
    expect(CONTRACT.problems('/v1/changes', 'get', 200, page)).toEqual(['/changes/0/time must match format "date-time"']);
    expect(CONTRACT.problems('/v1/changes', 'get', 200, { ...page, changes: [{ ...change, time: '2026-11-27T10:00:00.000Z' }] })).toEqual([]);
  });

  it('refuses a schema with a keyword it does not know, rather than skipping it', () => {
    expect(() => new ContractChecker({ ...CONTRACT.doc, components: { ...CONTRACT.doc.components, schemas: { ...CONTRACT.doc.components.schemas, Odd: { type: 'string', maxLenght: 3 } } } } as never)).toThrow(/unknown keyword/);
  });
});
