import { ERRORS, type ErrorCode } from '../errors.js';
import { CHANGES_PAGE_DEFAULT, CHANGES_PAGE_MAX, contractSchemas, ref, type ContractLimits } from './schemas.js';

/** The errors any request may get before its route is known: from the HTTP layer and the proxy. */
const TRANSPORT_ERRORS = ['MALFORMED_REQUEST', 'HEADERS_TOO_LARGE'] as const satisfies readonly ErrorCode[];
/** The errors every authenticated POST may get, whatever its body. */
const POST_ERRORS = [
  ...TRANSPORT_ERRORS,
  'INVALID_JSON',
  'INVALID_MSGPACK',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'VALIDATION_FAILED',
  'RATE_LIMITED',
  'INTERNAL',
  'OVERLOADED',
  'NOT_READY',
] as const satisfies readonly ErrorCode[];
const GUARD_ERRORS = ['TOO_MANY_MISMATCHES', 'TOO_MANY_SEARCHES', 'TOO_MANY_NOT_FOUND'] as const satisfies readonly ErrorCode[];

/** One response per status, naming every code answered with it, all with the Error body. */
const errorResponses = (codes: readonly ErrorCode[]) =>
  Object.fromEntries(
    [...new Set(codes.map((c) => ERRORS[c].status))]
      .sort()
      .map((status) => [String(status), { description: codes.filter((c) => ERRORS[c].status === status).join(', '), content: { 'application/json': { schema: ref('Error') } } }]),
  );

const both = (schema: object) => ({ 'application/json': { schema }, 'application/msgpack': { schema } });
const bearer = [{ bearer: [] }];

function post(operationId: string, summary: string, request: string, response: string, codes: readonly ErrorCode[]) {
  return {
    post: {
      operationId,
      summary,
      security: bearer,
      requestBody: { required: true, content: both(ref(request)) },
      responses: { '200': { description: 'The outcome', content: both(ref(response)) }, ...errorResponses(codes) },
    },
  };
}

/** An unauthenticated GET for operators and load balancers. */
function open(operationId: string, summary: string, responses: Record<string, object>) {
  return { get: { operationId, summary, security: [], responses: { ...responses, ...errorResponses(TRANSPORT_ERRORS) } } };
}

/**
 * The OpenAPI 3.1 document served at /openapi.json, made from the contract's schemas
 * with the operator's limits: what the validators enforce is what it says.
 */
export function openApiDocument(limits: ContractLimits) {
  const json = (schema: object) => ({ 'application/json': { schema } });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Citizen identity verification',
      version: '1.0.0',
      description: 'Per-field verification of claimed identities against the national population index.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/', description: 'This service, as reached by the client (in production, through its TLS proxy)' }],
    security: bearer,
    tags: [
      { name: 'verification', description: 'Checks of claimed identities' },
      { name: 'register', description: 'Changes to the register and its change log (admin scope)' },
      { name: 'operations', description: 'Health, readiness, metrics and this document' },
    ],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from the clients file: Authorization: Bearer <key>' } },
      schemas: contractSchemas(limits),
    },
    paths: {
      '/v1/verify': tagged('verification', post('verify', 'Verify a claimed identity by ID number', 'VerifyRequest', 'VerifyResponse', [...POST_ERRORS, ...GUARD_ERRORS])),
      '/v1/verify/demographic': tagged('verification', post('searchByNameAndBirthDate', 'Find a citizen by name and date of birth', 'DemographicRequest', 'DemographicResponse', [...POST_ERRORS, ...GUARD_ERRORS])),
      '/v1/verify/batch': tagged('verification', post('verifyBatch', `Up to ${limits.batchMaxItems.toLocaleString('en')} verifications in one request`, 'BatchRequest', 'BatchResponse', [...POST_ERRORS, ...GUARD_ERRORS])),
      '/v1/records': tagged(
        'register',
        post('applyChanges', 'Apply a batch of register changes, whole or not at all, durable before the answer (admin scope)', 'RecordsRequest', 'RecordsResponse', [...POST_ERRORS, 'INVALID_CHANGES', 'IDEMPOTENCY_CONFLICT', 'STORAGE_FULL']),
      ),
      '/v1/changes': tagged('register', {
        get: {
          operationId: 'listChanges',
          summary: 'The change log, in order, after a sequence number (admin scope)',
          security: bearer,
          parameters: [
            { name: 'after', in: 'query', description: 'The sequence number to read after', schema: { type: 'integer', minimum: 0, default: 0 } },
            { name: 'limit', in: 'query', description: 'The most changes to answer', schema: { type: 'integer', minimum: 1, maximum: CHANGES_PAGE_MAX, default: CHANGES_PAGE_DEFAULT } },
          ],
          responses: { '200': { description: 'A page of the log', content: json(ref('ChangesResponse')) }, ...errorResponses([...TRANSPORT_ERRORS, 'UNAUTHORIZED', 'FORBIDDEN', 'VALIDATION_FAILED', 'RATE_LIMITED', 'INTERNAL', 'NOT_READY']) },
        },
      }),
      '/healthz': tagged('operations', open('health', 'Liveness', { '200': { description: 'Alive', content: json(ref('Health')) } })),
      '/readyz': tagged(
        'operations',
        open('readiness', 'Readiness: the index is open', {
          '200': { description: 'Ready', content: json(ref('Health')) },
          '503': { description: 'Not ready', content: json(ref('Health')) },
        }),
      ),
      '/metrics': tagged('operations', open('metrics', 'Prometheus metrics', { '200': { description: 'Text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } })),
      '/openapi.json': tagged('operations', open('openApiDocument', 'This document', { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } })),
    },
  };
}

function tagged<T extends Record<string, object>>(tag: string, item: T): T {
  for (const operation of Object.values(item)) Object.assign(operation, { tags: [tag] });
  return item;
}
