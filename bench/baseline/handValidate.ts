import { checkIdNumber, isLegacyIdNumber, isLegacyLookup, type Gender } from '../../src/domain/idNumber.js';
import { parseFullDate, parsePartialDate } from '../../src/domain/dates.js';
import { DEFAULT_NAME_THRESHOLD, MIN_NAME_THRESHOLD } from '../../src/domain/names.js';
import { DEFAULT_MAX_CANDIDATES, MAX_CANDIDATES } from '../../src/verification/demographic.js';
import { regionByCode } from '../../src/domain/regions.js';
import { validationError } from '../../src/errors.js';
import type { DemographicQuery, IdClaim, MatchOptions } from '../../src/verification/types.js';
import type { AuditContext, Validated } from '../../src/contract/validator.js';

/**
 * Turns request bodies into work items, or throws VALIDATION_FAILED naming the field.
 * Messages describe the rule, never the value sent (it may be personal data).
 */
type Body = Record<string, unknown>;

// Carried for the audit trail; accepted on every verification body and batch item.
const AUDIT_FIELDS = ['purpose', 'consentRef'];
const ID_FIELDS = ['idNumber', 'candidateRef', 'fullName', 'dateOfBirth', 'gender', 'placeOfOrigin', 'placeOfResidence', 'legacyIdNumber', 'cardIssueDate', 'options', ...AUDIT_FIELDS];
const DEMOGRAPHIC_FIELDS = ['fullName', 'dateOfBirth', 'gender', 'provinceCode', 'options', ...AUDIT_FIELDS];
/** A purpose is a short code: lower-case letters, digits, ".", "_" or "-". */
export const PURPOSE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_NAME = 100;
const MAX_PLACE = 200;
const MAX_CONSENT_REF = 128;

export function asObject(value: unknown, field: string): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw validationError(field, `${field} must be an object`);
  return value as Body;
}

function rejectUnknown(body: Body, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw validationError(prefix + key, `unknown field "${prefix + key}"`);
  }
}

// Control characters (NUL included) but the tab, which forms paste between words and names
// read as a space; U+FFFD, what a decoder puts for bytes that are not UTF-8; and a surrogate
// without its other half (possible in JSON's \u escapes).
const UNFIT_TEXT = /[^\P{Cc}\t]|\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

function optionalString(body: Body, field: string, max: number): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw validationError(field, `${field} must be a string`);
  if (value.length > max) throw validationError(field, `${field} must be at most ${max} characters`);
  // Refused, not cleaned: a name with a NUL in it must not quietly become a match.
  if (UNFIT_TEXT.test(value)) {
    throw validationError(field, `${field} must be text: no control characters, unpaired surrogates or bytes that are not UTF-8`);
  }
  return value;
}

// A claim states at least the whole name and the whole date of birth: an answer to less
// (an ID number alone, a year, one word of a name) would tell the client something it
// did not already hold, and a few such answers rebuild the record.
const NAME_WORD = /\p{L}[\p{L}\p{M}'’.-]*/gu;

/** Names every part of the minimum claim that is missing, not only the first. */
function requireClaim(body: Body): void {
  const missing = ['fullName', 'dateOfBirth'].filter((field) => body[field] === undefined);
  if (missing.length) {
    const verb = missing.length > 1 ? 'are' : 'is';
    throw validationError(missing[0], `${missing.join(' and ')} ${verb} required: a claim states at least the full name and the full date of birth`);
  }
}

/** After requireClaim: the field is there. */
function fullName(body: Body): string {
  const value = optionalString(body, 'fullName', MAX_NAME)!;
  if (!/\p{L}/u.test(value)) throw validationError('fullName', 'fullName must contain letters');
  if ((value.match(NAME_WORD) ?? []).length < 2) throw validationError('fullName', 'fullName must be the full name: a family name and a given name at least');
  return value;
}

function fullBirthDate(body: Body): string {
  const value = optionalString(body, 'dateOfBirth', 10)!;
  if (!parseFullDate(value)) {
    const rule = parsePartialDate(value) ? 'dateOfBirth must be the full date, YYYY-MM-DD: a year or a month alone is not a claim' : 'dateOfBirth must be a valid YYYY-MM-DD from 1900';
    throw validationError('dateOfBirth', rule);
  }
  return value;
}

function gender(body: Body): Gender | undefined {
  const value = body.gender;
  if (value === undefined) return undefined;
  if (value !== 'male' && value !== 'female') throw validationError('gender', 'gender must be "male" or "female"');
  return value;
}

function integerOption(opts: Body, name: string, min: number, max: number, fallback: number): number {
  const value = opts[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw validationError(`options.${name}`, `options.${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** `nameThreshold` on every kind of claim; `maxCandidates` on searches only. */
function options(body: Body, search: boolean, floor: number): MatchOptions {
  const opts = body.options === undefined ? {} : asObject(body.options, 'options');
  rejectUnknown(opts, search ? ['nameThreshold', 'maxCandidates'] : ['nameThreshold'], 'options.');
  return {
    nameThreshold: integerOption(opts, 'nameThreshold', floor, 100, Math.max(floor, DEFAULT_NAME_THRESHOLD)),
    maxCandidates: integerOption(opts, 'maxCandidates', 1, MAX_CANDIDATES, DEFAULT_MAX_CANDIDATES),
  };
}

function auditFields(body: Body): AuditContext {
  const purpose = optionalString(body, 'purpose', 64);
  if (purpose !== undefined && !PURPOSE.test(purpose)) {
    throw validationError('purpose', 'purpose must be a short code of lower-case letters, digits, ".", "_" or "-"');
  }
  const consentRef = optionalString(body, 'consentRef', MAX_CONSENT_REF);
  if (consentRef !== undefined && consentRef.trim() === '') throw validationError('consentRef', 'consentRef must not be blank');
  const context: AuditContext = {};
  if (purpose !== undefined) context.purpose = purpose;
  if (consentRef !== undefined) context.consentRef = consentRef;
  return context;
}

/** The ID number claimed, or '' when the claim names a search's candidate by `candidateRef` instead. */
function claimedId(body: Body): string {
  if (body.candidateRef !== undefined) {
    if (body.idNumber !== undefined) throw validationError('candidateRef', 'give idNumber or candidateRef, not both');
    if (typeof body.candidateRef !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(body.candidateRef)) {
      throw validationError('candidateRef', 'candidateRef must be a reference from a search answer');
    }
    return '';
  }
  if (body.idNumber === undefined) throw validationError('idNumber', 'idNumber (or candidateRef) is required');
  const idRule = 'idNumber must be a string of 12 digits, or of 9 for a legacy number';
  if (typeof body.idNumber !== 'string' || !isLegacyIdNumber(body.idNumber)) throw validationError('idNumber', idRule);
  const id = isLegacyLookup(body.idNumber) ? { ok: true as const } : checkIdNumber(body.idNumber);
  if (!id.ok) throw validationError('idNumber', `idNumber ${id.reason}`);
  return body.idNumber;
}

export function idItem(body: Body, floor = MIN_NAME_THRESHOLD): Validated {
  rejectUnknown(body, ID_FIELDS);
  const idNumber = claimedId(body);
  requireClaim(body);
  const claim: IdClaim = { idNumber, fullName: fullName(body), dateOfBirth: fullBirthDate(body) };
  const set = <K extends keyof IdClaim>(key: K, value: IdClaim[K] | undefined) => {
    if (value !== undefined) claim[key] = value;
  };
  set('gender', gender(body));
  set('placeOfOrigin', optionalString(body, 'placeOfOrigin', MAX_PLACE));
  set('placeOfResidence', optionalString(body, 'placeOfResidence', MAX_PLACE));
  const legacy = optionalString(body, 'legacyIdNumber', 12);
  if (legacy !== undefined && !isLegacyIdNumber(legacy)) throw validationError('legacyIdNumber', 'legacyIdNumber must be 9 or 12 digits');
  set('legacyIdNumber', legacy);
  const issued = optionalString(body, 'cardIssueDate', 10);
  if (issued !== undefined && !parseFullDate(issued)) throw validationError('cardIssueDate', 'cardIssueDate must be a valid YYYY-MM-DD');
  set('cardIssueDate', issued);
  const context = auditFields(body);
  const validated: Validated = { item: { type: 'id', claim, options: options(body, false, floor) }, context };
  if (claim.idNumber === '') validated.candidateRef = body.candidateRef as string;
  return validated;
}

export function demographicItem(body: Body, floor = MIN_NAME_THRESHOLD): Validated {
  rejectUnknown(body, DEMOGRAPHIC_FIELDS);
  requireClaim(body);
  const query: DemographicQuery = { fullName: fullName(body), dateOfBirth: fullBirthDate(body) };
  const g = gender(body);
  if (g) query.gender = g;
  const province = optionalString(body, 'provinceCode', 3);
  if (province !== undefined) {
    if (!/^[0-9]{3}$/.test(province) || !regionByCode(province)) {
      throw validationError('provinceCode', 'provinceCode must be a 3-digit province or country code');
    }
    query.provinceCode = province;
  }
  const context = auditFields(body);
  return { item: { type: 'demographic', query, options: options(body, true, floor) }, context };
}

/** A batch item carries its own type: "id" or "demographic". */
export function batchItem(value: unknown, floor = MIN_NAME_THRESHOLD): Validated {
  const body = asObject(value, 'item');
  const { type, ...rest } = body;
  if (type === 'id') return idItem(rest, floor);
  if (type === 'demographic') return demographicItem(rest, floor);
  throw validationError('type', 'type must be "id" or "demographic"');
}

/** The items of a batch (validated one by one later), and the purpose and consent that apply to items giving none. */
export function batchItems(body: Body, maxItems: number): { items: unknown[]; context: AuditContext } {
  rejectUnknown(body, ['items', ...AUDIT_FIELDS]);
  const context = auditFields(body);
  if (!Array.isArray(body.items)) throw validationError('items', 'items must be an array');
  if (body.items.length === 0) throw validationError('items', 'items must not be empty');
  if (body.items.length > maxItems) throw validationError('items', `items must hold at most ${maxItems} entries`);
  return { items: body.items, context };
}

/**
 * The validator as it was written by hand before the contract's schemas replaced it
 * (src/server/validate.ts until then), kept only so that the budget bench can time both
 * in one run; nothing serves it.
 */
export class HandWrittenValidator {
  constructor(private readonly limits: { minNameThreshold: number; batchMaxItems: number }) {}
  idItem = (body: unknown) => idItem(asObject(body, 'body'), this.limits.minNameThreshold);
  demographicItem = (body: unknown) => demographicItem(asObject(body, 'body'), this.limits.minNameThreshold);
  batchItem = (value: unknown) => batchItem(value, this.limits.minNameThreshold);
  batchItems = (body: unknown) => batchItems(asObject(body, 'body'), this.limits.batchMaxItems);
}
