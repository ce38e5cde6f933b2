import { ERRORS } from '../errors.js';
import { DEFAULT_NAME_THRESHOLD, MIN_NAME_THRESHOLD } from '../domain/names.js';
import { DEFAULT_MAX_CANDIDATES, MAX_CANDIDATES } from '../verification/demographic.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra });
const bool = { type: 'boolean' };
const score = { type: 'integer', minimum: 0, maximum: 100 };
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });

const fullDate = str({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'The full date, YYYY-MM-DD, from 1900: a claim is never partial (the answer says when the register holds less)' });
const fullName = str({ maxLength: 100, description: 'The full name: a family name and a given name at least' });
const audit = {
  purpose: str({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'Why the check is made, e.g. "account-opening"' }),
  consentRef: str({ maxLength: 128, description: "The client's reference to the citizen's consent" }),
};
const nameThreshold = { type: 'integer', minimum: MIN_NAME_THRESHOLD, maximum: 100, default: DEFAULT_NAME_THRESHOLD, description: `At least ${MIN_NAME_THRESHOLD}, or the floor the operator set` };
const options = obj({ nameThreshold });
const searchOptions = obj({
  nameThreshold,
  maxCandidates: { type: 'integer', minimum: 1, maximum: MAX_CANDIDATES, default: DEFAULT_MAX_CANDIDATES },
});
const candidateRef = str({ pattern: '^[A-Za-z0-9_-]{1,128}$', description: 'A candidate of a search answer given to this API key in the last 24 hours, in place of the ID number' });
const isoDay = str({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });
/** A person's fields besides ID number, name and date of birth: as a claim sends them and as a record holds them. */
const personFields = {
  gender: { enum: ['male', 'female'] },
  placeOfOrigin: str({ maxLength: 200 }),
  placeOfResidence: str({ maxLength: 200 }),
  legacyIdNumber: str({ pattern: '^([0-9]{9}|[0-9]{12})$' }),
  cardIssueDate: isoDay,
};
const idClaim = {
  idNumber: str({ pattern: '^(?:[0-9]{12}|[0-9]{9})$', description: 'The 12-digit personal ID number, or a 9-digit legacy (CMND) number' }),
  candidateRef,
  fullName,
  dateOfBirth: fullDate,
  ...personFields,
  options,
  ...audit,
};
const demographicQuery = {
  fullName,
  dateOfBirth: fullDate,
  gender: { enum: ['male', 'female'] },
  provinceCode: str({ pattern: '^[0-9]{3}$' }),
  options: searchOptions,
  ...audit,
};
const fieldResults = obj({
  // Scores only for clients whose entry allows them (`scores: true`).
  fullName: obj({ match: bool, level: { enum: ['exact', 'normalized', 'fuzzy', 'none'] }, score }, ['match', 'level']),
  dateOfBirth: obj({ match: bool, precision: { enum: ['day', 'month', 'year'] }, transposed: { const: true } }, ['match', 'precision']),
  gender: obj({ match: bool }, ['match']),
  legacyIdNumber: obj({ match: bool }, ['match']),
  cardIssueDate: obj({ match: bool }, ['match']),
  placeOfOrigin: obj({ match: bool, score }, ['match']),
  placeOfResidence: obj({ match: bool, score }, ['match']),
});
const idOutcome = {
  result: { enum: ['match', 'partial', 'mismatch', 'not_found'] },
  fields: fieldResults,
  identifiedBy: { const: 'legacyIdNumber' },
  status: { ...obj({ alive: bool, card: { enum: ['valid', 'expired', 'revoked'] } }, ['alive', 'card']), description: 'Only when the result is match or partial' },
};
const demographicOutcome = {
  result: { enum: ['unique', 'ambiguous', 'none'] },
  total: { type: 'integer', minimum: 0 },
  candidates: { type: 'array', maxItems: MAX_CANDIDATES, items: obj({ candidateRef, score }, ['candidateRef']) },
};
const itemError = obj({ index: { type: 'integer', minimum: 0 }, code: { enum: ['INVALID_CHANGE', 'NOT_IN_REGISTER'] }, message: str() }, ['index', 'code', 'message']);
const errorBody = obj({ error: obj({ code: { enum: Object.keys(ERRORS) }, message: str(), field: str(), items: { type: 'array', items: itemError } }, ['code', 'message']) }, ['error']);

const idNumber = str({ pattern: '^[0-9]{12}$', description: 'The 12-digit personal ID number' });
const dateAsRegistered = str({ pattern: '^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$', description: 'YYYY-MM-DD, YYYY-MM or YYYY, as registered' });
const citizen = obj(
  {
    idNumber,
    fullName,
    dateOfBirth: dateAsRegistered,
    ...personFields,
    status: { enum: ['alive', 'deceased'] },
    cardStatus: { enum: ['valid', 'revoked'] },
  },
  ['idNumber', 'fullName', 'dateOfBirth', 'gender'],
);
const change = {
  oneOf: [
    obj({ op: { const: 'upsert' }, record: ref('Citizen') }, ['op', 'record']),
    ...['deceased', 'revokeCard', 'delete'].map((op) => obj({ op: { const: op }, idNumber }, ['op', 'idNumber'])),
    obj({ op: { const: 'reissueCard' }, idNumber, cardIssueDate: isoDay }, ['op', 'idNumber', 'cardIssueDate']),
    obj({ op: { const: 'rename' }, idNumber, fullName }, ['op', 'idNumber', 'fullName']),
  ],
};
const loggedChange = obj(
  {
    v: { const: 1 },
    seq: { type: 'integer', minimum: 1 },
    time: str({ format: 'date-time' }),
    batch: str(),
    client: str(),
    op: { enum: ['upsert', 'deceased', 'revokeCard', 'reissueCard', 'rename', 'delete'] },
    idNumber,
    record: { oneOf: [ref('Citizen'), { type: 'null' }], description: 'The citizen as the change left them; null when deleted' },
  },
  ['v', 'seq', 'time', 'batch', 'client', 'op', 'idNumber', 'record'],
);

const errorResponses = (...codes: (keyof typeof ERRORS)[]) =>
  Object.fromEntries(
    [...new Set(codes.map((c) => ERRORS[c].status))].map((status) => [
      String(status),
      { description: codes.filter((c) => ERRORS[c].status === status).join(', '), content: { 'application/json': { schema: ref('Error') } } },
    ]),
  );
const COMMON_ERRORS = ['INVALID_JSON', 'MALFORMED_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED', 'HEADERS_TOO_LARGE', 'RATE_LIMITED', 'TOO_MANY_MISMATCHES', 'TOO_MANY_SEARCHES', 'TOO_MANY_NOT_FOUND', 'INTERNAL', 'OVERLOADED'] as const;

const post = (summary: string, request: string, response: string) => ({
  post: {
    summary,
    security: [{ bearer: [] }],
    requestBody: { required: true, content: { 'application/json': { schema: ref(request) }, 'application/msgpack': { schema: ref(request) } } },
    responses: {
      '200': { description: 'Verification outcome', content: { 'application/json': { schema: ref(response) }, 'application/msgpack': { schema: ref(response) } } },
      ...errorResponses(...COMMON_ERRORS),
    },
  },
});

/** The OpenAPI 3.1 description served at /openapi.json; tests check real responses against it. */
export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'Citizen identity verification', version: '1.0.0', description: 'Per-field verification of claimed identities against the national population index.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      VerifyRequest: { ...obj(idClaim, ['fullName', 'dateOfBirth']), oneOf: [{ required: ['idNumber'] }, { required: ['candidateRef'] }] },
      VerifyResponse: obj({ requestId: str(), ...idOutcome }, ['requestId', 'result', 'fields']),
      DemographicRequest: obj(demographicQuery, ['fullName', 'dateOfBirth']),
      DemographicResponse: obj({ requestId: str(), ...demographicOutcome }, ['requestId', 'result', 'total', 'candidates']),
      BatchRequest: obj(
        {
          items: {
            type: 'array',
            minItems: 1,
            maxItems: 1000,
            items: { oneOf: [{ ...obj({ type: { const: 'id' }, ...idClaim }, ['type', 'fullName', 'dateOfBirth']), oneOf: [{ required: ['idNumber'] }, { required: ['candidateRef'] }] }, obj({ type: { const: 'demographic' }, ...demographicQuery }, ['type', 'fullName', 'dateOfBirth'])] },
          },
          ...audit,
        },
        ['items'],
      ),
      BatchResponse: obj(
        {
          requestId: str(),
          results: {
            type: 'array',
            items: {
              oneOf: [
                obj({ type: { const: 'id' }, ...idOutcome }, ['type', 'result', 'fields']),
                obj({ type: { const: 'demographic' }, ...demographicOutcome }, ['type', 'result', 'total', 'candidates']),
                ref('Error'),
              ],
            },
          },
        },
        ['requestId', 'results'],
      ),
      Citizen: citizen,
      RecordsRequest: obj(
        {
          idempotencyKey: str({ pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'Unique per batch and client: a batch sent again with it is applied once' }),
          changes: { type: 'array', minItems: 1, maxItems: 1000, items: change },
        },
        ['idempotencyKey', 'changes'],
      ),
      RecordsResponse: obj(
        { requestId: str(), idempotencyKey: str(), applied: { type: 'integer', minimum: 1 }, firstSequence: { type: 'integer', minimum: 1 }, lastSequence: { type: 'integer', minimum: 1 }, replayed: bool },
        ['requestId', 'idempotencyKey', 'applied', 'firstSequence', 'lastSequence', 'replayed'],
      ),
      ChangesResponse: obj(
        { requestId: str(), build: str(), lastSequence: { type: 'integer', minimum: 0 }, changes: { type: 'array', items: loggedChange }, next: { type: 'integer', minimum: 0 } },
        ['requestId', 'build', 'lastSequence', 'changes', 'next'],
      ),
      Error: errorBody,
      Health: obj({ status: { enum: ['ok', 'ready', 'not_ready'] }, records: { type: 'integer' } }, ['status']),
    },
  },
  paths: {
    '/v1/verify': post('Verify a claimed identity by ID number', 'VerifyRequest', 'VerifyResponse'),
    '/v1/verify/demographic': post('Find a citizen by name and date of birth', 'DemographicRequest', 'DemographicResponse'),
    '/v1/verify/batch': post('Up to 1,000 verifications in one request', 'BatchRequest', 'BatchResponse'),
    '/v1/records': {
      post: {
        summary: 'Apply a batch of register changes, whole or not at all, durable before the answer (admin scope)',
        security: [{ bearer: [] }],
        requestBody: { required: true, content: { 'application/json': { schema: ref('RecordsRequest') }, 'application/msgpack': { schema: ref('RecordsRequest') } } },
        responses: {
          '200': { description: 'Applied (or applied before: replayed)', content: { 'application/json': { schema: ref('RecordsResponse') }, 'application/msgpack': { schema: ref('RecordsResponse') } } },
          ...errorResponses(...COMMON_ERRORS.filter((c) => !c.startsWith('TOO_MANY')), 'INVALID_CHANGES', 'IDEMPOTENCY_CONFLICT', 'NOT_READY', 'STORAGE_FULL'),
        },
      },
    },
    '/v1/changes': {
      get: {
        summary: 'The change log, in order, after a sequence number (admin scope)',
        security: [{ bearer: [] }],
        parameters: [
          { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          '200': { description: 'A page of the log', content: { 'application/json': { schema: ref('ChangesResponse') } } },
          ...errorResponses('UNAUTHORIZED', 'FORBIDDEN', 'VALIDATION_FAILED', 'RATE_LIMITED', 'INTERNAL', 'NOT_READY'),
        },
      },
    },
    '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'Alive', content: { 'application/json': { schema: ref('Health') } } } } } },
    '/readyz': {
      get: {
        summary: 'Readiness: the index is open',
        responses: {
          '200': { description: 'Ready', content: { 'application/json': { schema: ref('Health') } } },
          '503': { description: 'Not ready', content: { 'application/json': { schema: ref('Health') } } },
        },
      },
    },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format', content: { 'text/plain': { schema: str() } } } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
  },
};
