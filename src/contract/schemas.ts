import { DEFAULT_NAME_THRESHOLD } from '../domain/names.js';
import { ERRORS } from '../errors.js';
import { DEFAULT_MAX_CANDIDATES, MAX_CANDIDATES } from '../verification/demographic.js';
import type { FormatName } from './formats.js';

/**
 * The API's request and response bodies, stated once as JSON Schema (2020-12, as OpenAPI
 * 3.1 takes it): the server compiles its validators from these (validator.ts) and serves
 * them in /openapi.json (openapi.ts); tests check real answers against them with ajv.
 * Limits come from the service's config. A rule no keyword can state is a named format
 * (formats.ts); `x-rule` says a pattern's or format's rule in words, and the validator's
 * message is the field's name followed by it.
 */
export type Schema = Record<string, unknown>;

/** The limits of the contract the operator sets (config). */
export interface ContractLimits {
  /** The lowest options.nameThreshold a client may ask for. */
  minNameThreshold: number;
  batchMaxItems: number;
  maxChangesPerBatch: number;
}

/** A purpose is a short code: lower-case letters, digits, ".", "_" or "-". */
export const PURPOSE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** The most logged changes one GET /v1/changes answers. */
export const CHANGES_PAGE_MAX = 1000;
export const CHANGES_PAGE_DEFAULT = 100;
export const OPS = ['upsert', 'deceased', 'revokeCard', 'reissueCard', 'rename', 'delete'] as const;

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const formatted = (format: FormatName, rule: string, extra: Schema = {}) => str({ format, 'x-rule': rule, ...extra });
const int = (minimum: number, maximum?: number, extra: Schema = {}): Schema => ({ type: 'integer', minimum, ...(maximum === undefined ? {} : { maximum }), ...extra });
const bool = { type: 'boolean' };
const score = int(0, 100);
/** What an instance is to the change stream: alone (no stream), the one that takes changes, or one that follows. */
export const ROLES = ['standalone', 'primary', 'replica'] as const;
/** Why an instance that serves says it is not ready, so that a balancer stops sending to it. */
export const UNREADY_REASONS = ['fenced', 'lagging', 'build_moved', 'stream_gap'] as const;

const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', additionalProperties: false, properties, required });
const TEXT = 'must be text: no control characters, unpaired surrogates or bytes that are not UTF-8';

const fullName = formatted('full-name', 'must be the full name: a family name and a given name at least, in letters', {
  maxLength: 100,
  description: 'The full name: a family name and a given name at least',
});
const claimedBirthDate = formatted('birth-date', 'must be the full date, YYYY-MM-DD, from 1900', {
  maxLength: 10,
  description: 'The full date, YYYY-MM-DD, from 1900: a claim is never partial (the answer says when the register holds less)',
});
const place = formatted('text', TEXT, { maxLength: 200 });
const gender = { enum: ['male', 'female'] };
const legacyIdNumber = formatted('legacy-id-number', 'must be 9 or 12 digits', { maxLength: 12, pattern: '^([0-9]{9}|[0-9]{12})$' });
const calendarDate = formatted('calendar-date', 'must be a valid YYYY-MM-DD', { maxLength: 10, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });
const candidateRef = str({
  pattern: '^[A-Za-z0-9_-]{1,128}$',
  'x-rule': 'must be a reference from a search answer',
  description: 'A candidate of a search answer given to this API key in the last 24 hours, in place of the ID number',
});
const audit = {
  purpose: str({ maxLength: 64, pattern: PURPOSE.source, 'x-rule': 'must be a short code of lower-case letters, digits, ".", "_" or "-"', description: 'Why the check is made, e.g. "account-opening"' }),
  // The rule for the pattern (the format's own failures say theirs).
  consentRef: formatted('text', 'must not be blank', { maxLength: 128, pattern: '\\S', description: "The client's reference to the citizen's consent: text, not blank" }),
};

function options(limits: ContractLimits, search: boolean): Schema {
  const nameThreshold = int(limits.minNameThreshold, 100, {
    default: Math.max(limits.minNameThreshold, DEFAULT_NAME_THRESHOLD),
    description: 'The lowest name score that counts as a match',
  });
  return obj(search ? { nameThreshold, maxCandidates: int(1, MAX_CANDIDATES, { default: DEFAULT_MAX_CANDIDATES }) } : { nameThreshold });
}

/** The fields of an ID check, in the order their problems are reported. */
function idClaim(limits: ContractLimits): Record<string, Schema> {
  return {
    idNumber: formatted('id-number', 'must be a 12-digit personal ID number that could be issued, or a 9-digit legacy number', {
      maxLength: 12,
      pattern: '^(?:[0-9]{12}|[0-9]{9})$',
      description: 'The 12-digit personal ID number, or a 9-digit legacy (CMND) number',
    }),
    candidateRef,
    fullName,
    dateOfBirth: claimedBirthDate,
    gender,
    placeOfOrigin: place,
    placeOfResidence: place,
    legacyIdNumber,
    cardIssueDate: calendarDate,
    ...audit,
    options: options(limits, false),
  };
}

function demographicQuery(limits: ContractLimits): Record<string, Schema> {
  return {
    fullName,
    dateOfBirth: claimedBirthDate,
    gender,
    provinceCode: formatted('province-code', 'must be a 3-digit province or country code', { maxLength: 3, pattern: '^[0-9]{3}$' }),
    ...audit,
    options: options(limits, true),
  };
}

const CLAIM_REQUIRED = ['fullName', 'dateOfBirth'];
/** One of idNumber or candidateRef, not both. */
const ONE_IDENTIFIER = { oneOf: ['idNumber', 'candidateRef'].map((name) => ({ properties: { [name]: true }, required: [name] })) };
const typed = (type: 'id' | 'demographic', fields: Record<string, Schema>) => ({ type: { const: type }, ...fields });

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
  total: int(0),
  candidates: { type: 'array', maxItems: MAX_CANDIDATES, items: obj({ candidateRef, score }, ['candidateRef']) },
};
const itemError = obj({ index: int(0), code: { enum: ['INVALID_CHANGE', 'NOT_IN_REGISTER'] }, message: str() }, ['index', 'code', 'message']);
const errorBody = obj({ error: obj({ code: { enum: Object.keys(ERRORS) }, message: str(), field: str(), items: { type: 'array', items: itemError } }, ['code', 'message']) }, ['error']);

const registeredIdNumber = str({ pattern: '^[0-9]{12}$', description: 'The 12-digit personal ID number' });
/** A citizen as the register holds one (the record of an upsert, and of a logged change). */
export const CITIZEN = obj(
  {
    idNumber: registeredIdNumber,
    fullName: str({ maxLength: 100 }),
    dateOfBirth: str({ pattern: '^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$', description: 'YYYY-MM-DD, YYYY-MM or YYYY, as registered' }),
    gender,
    placeOfOrigin: str({ maxLength: 200 }),
    placeOfResidence: str({ maxLength: 200 }),
    legacyIdNumber: str({ pattern: '^([0-9]{9}|[0-9]{12})$' }),
    cardIssueDate: str({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }),
    status: { enum: ['alive', 'deceased'] },
    cardStatus: { enum: ['valid', 'revoked'] },
  },
  ['idNumber', 'fullName', 'dateOfBirth', 'gender'],
);
/** The citizen a change names, by the number the register holds. */
const changedIdNumber = formatted('personal-id-number', 'must be a valid 12-digit ID number', { pattern: '^[0-9]{12}$', description: 'The 12-digit personal ID number' });
/**
 * Each register change by its op. The record of an upsert, and the record a change
 * leaves, also go through the import rules (domain/citizen.ts), as a build's records do.
 */
export const CHANGES: Record<(typeof OPS)[number], Schema> = {
  upsert: obj({ op: { const: 'upsert' }, record: ref('Citizen') }, ['op', 'record']),
  deceased: obj({ op: { const: 'deceased' }, idNumber: changedIdNumber }, ['op', 'idNumber']),
  revokeCard: obj({ op: { const: 'revokeCard' }, idNumber: changedIdNumber }, ['op', 'idNumber']),
  reissueCard: obj({ op: { const: 'reissueCard' }, idNumber: changedIdNumber, cardIssueDate: calendarDate }, ['op', 'idNumber', 'cardIssueDate']),
  rename: obj({ op: { const: 'rename' }, idNumber: changedIdNumber, fullName: str({ maxLength: 100 }) }, ['op', 'idNumber', 'fullName']),
  delete: obj({ op: { const: 'delete' }, idNumber: changedIdNumber }, ['op', 'idNumber']),
};
/** A batch's idempotency key. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;
const loggedChange = obj(
  {
    v: { const: 1 },
    seq: int(1),
    time: str({ format: 'date-time' }),
    batch: str(),
    client: str(),
    op: { enum: [...OPS] },
    idNumber: registeredIdNumber,
    record: { oneOf: [ref('Citizen'), { type: 'null' }], description: 'The citizen as the change left them; null when deleted' },
  },
  ['v', 'seq', 'time', 'batch', 'client', 'op', 'idNumber', 'record'],
);
const requestId = str({ description: 'The id this answer is logged and audited under (also the x-request-id header)' });

/** Every schema of the contract, by its name in /openapi.json's components. */
export function contractSchemas(limits: ContractLimits): Record<string, Schema> {
  return {
    VerifyRequest: { ...obj(idClaim(limits), CLAIM_REQUIRED), ...ONE_IDENTIFIER },
    VerifyResponse: obj({ requestId, ...idOutcome }, ['requestId', 'result', 'fields']),
    DemographicRequest: obj(demographicQuery(limits), CLAIM_REQUIRED),
    DemographicResponse: obj({ requestId, ...demographicOutcome }, ['requestId', 'result', 'total', 'candidates']),
    BatchIdItem: { ...obj(typed('id', idClaim(limits)), ['type', ...CLAIM_REQUIRED]), ...ONE_IDENTIFIER },
    BatchDemographicItem: obj(typed('demographic', demographicQuery(limits)), ['type', ...CLAIM_REQUIRED]),
    BatchRequest: obj(
      {
        items: {
          type: 'array',
          minItems: 1,
          maxItems: limits.batchMaxItems,
          // Each item is checked on its own (a bad one gets its own error): here only that it is an object.
          items: { type: 'object', oneOf: [ref('BatchIdItem'), ref('BatchDemographicItem')] },
        },
        ...audit,
      },
      ['items'],
    ),
    BatchResponse: obj(
      {
        requestId,
        results: {
          type: 'array',
          items: {
            oneOf: [
              obj(typed('id', idOutcome), ['type', 'result', 'fields']),
              obj(typed('demographic', demographicOutcome), ['type', 'result', 'total', 'candidates']),
              ref('Error'),
            ],
          },
        },
      },
      ['requestId', 'results'],
    ),
    Citizen: CITIZEN,
    RecordsRequest: obj(
      {
        idempotencyKey: str({ pattern: IDEMPOTENCY_KEY.source, description: 'Unique per batch and client: a batch sent again with it is applied once' }),
        changes: { type: 'array', minItems: 1, maxItems: limits.maxChangesPerBatch, items: { oneOf: OPS.map((op) => CHANGES[op]) } },
      },
      ['idempotencyKey', 'changes'],
    ),
    RecordsResponse: obj(
      { requestId, idempotencyKey: str(), applied: int(1), firstSequence: int(1), lastSequence: int(1), replayed: bool },
      ['requestId', 'idempotencyKey', 'applied', 'firstSequence', 'lastSequence', 'replayed'],
    ),
    ChangesResponse: obj(
      { requestId, build: str(), lastSequence: int(0), changes: { type: 'array', items: loggedChange }, next: int(0) },
      ['requestId', 'build', 'lastSequence', 'changes', 'next'],
    ),
    Error: errorBody,
    Health: obj(
      {
        status: { enum: ['ok', 'ready', 'not_ready'] },
        reason: { enum: ['shutting_down', ...UNREADY_REASONS], description: 'Why not ready: shutting down; a primary replaced by another (fenced); a replica further behind than its bound (lagging), following a build the primary no longer serves (build_moved), or missing changes the stream no longer holds (stream_gap)' },
        records: { type: 'integer', description: 'Citizens on record now' },
        role: { enum: [...ROLES], description: 'standalone: no change stream; primary: takes changes and publishes them; replica: follows the primary through the stream' },
        build: { type: 'string', description: 'The build served' },
        sequence: { type: 'integer', description: 'The last change of the register applied here' },
        lag: { ...obj({ changes: { type: 'integer' }, seconds: { type: 'number' } }, ['changes', 'seconds']), description: 'A replica: how far behind the stream it is' },
      },
      ['status'],
    ),
  };
}
