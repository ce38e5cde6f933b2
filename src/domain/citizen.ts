import { checkIdNumber, isLegacyIdNumber, type Gender } from './idNumber.js';
import { parseFullDate, parsePartialDate } from './dates.js';
import { registerNameProblem } from './textRules.js';

/** One citizen as imported (NDJSON line or CSV row) and as stored. */
export interface Citizen {
  idNumber: string;
  fullName: string;
  dateOfBirth: string;
  gender: Gender;
  placeOfOrigin?: string;
  placeOfResidence?: string;
  legacyIdNumber?: string;
  cardIssueDate?: string;
  status: 'alive' | 'deceased';
  cardStatus: 'valid' | 'revoked';
}

export type CitizenCheck = { ok: true; citizen: Citizen } | { ok: false; reason: string };

const FIELDS = new Set([
  'idNumber', 'fullName', 'dateOfBirth', 'gender', 'placeOfOrigin', 'placeOfResidence',
  'legacyIdNumber', 'cardIssueDate', 'status', 'cardStatus',
]);
const MAX_NAME_LENGTH = 100;
const MAX_PLACE_LENGTH = 200;

type Raw = Record<string, unknown>;

function text(raw: Raw, field: string, max: number, required: boolean): string | undefined | Error {
  const value = raw[field];
  if (value === undefined || value === null || value === '') {
    return required ? new Error(`${field} is required`) : undefined;
  }
  if (typeof value !== 'string') return new Error(`${field} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length === 0) return required ? new Error(`${field} is required`) : undefined;
  if (trimmed.length > max) return new Error(`${field} is longer than ${max} characters`);
  return trimmed;
}

function oneOf<T extends string>(raw: Raw, field: string, allowed: readonly T[], fallback: T): T | Error {
  const value = raw[field];
  if (value === undefined || value === null || value === '') return fallback;
  return allowed.includes(value as T) ? (value as T) : new Error(`${field} must be one of ${allowed.join(', ')}`);
}

/**
 * Applies the import rules to one parsed line. Reasons name fields, never values,
 * so a rejects file or log line carries no personal data beyond the line number.
 */
export function checkCitizen(raw: unknown, currentYear = new Date().getUTCFullYear()): CitizenCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'not an object' };
  const r = raw as Raw;
  const unknown = Object.keys(r).find((k) => !FIELDS.has(k));
  if (unknown) return { ok: false, reason: `unknown field ${JSON.stringify(unknown.slice(0, 40))}` };

  const values = {
    idNumber: text(r, 'idNumber', 12, true),
    fullName: text(r, 'fullName', MAX_NAME_LENGTH, true),
    dateOfBirth: text(r, 'dateOfBirth', 10, true),
    gender: oneOf(r, 'gender', ['male', 'female'] as const, undefined as never),
    placeOfOrigin: text(r, 'placeOfOrigin', MAX_PLACE_LENGTH, false),
    placeOfResidence: text(r, 'placeOfResidence', MAX_PLACE_LENGTH, false),
    legacyIdNumber: text(r, 'legacyIdNumber', 12, false),
    cardIssueDate: text(r, 'cardIssueDate', 10, false),
    status: oneOf(r, 'status', ['alive', 'deceased'] as const, 'alive'),
    cardStatus: oneOf(r, 'cardStatus', ['valid', 'revoked'] as const, 'valid'),
  };
  for (const value of Object.values(values)) if (value instanceof Error) return { ok: false, reason: value.message };
  const c = values as unknown as Citizen;
  // The register holds a name a claim can send back. (A place may hold a line break: it matches as a space.)
  const name = registerNameProblem(c.fullName);
  if (name) return { ok: false, reason: `fullName ${name}` };
  if (c.gender === undefined) return { ok: false, reason: 'gender is required' };

  const id = checkIdNumber(typeof r.idNumber === 'string' ? r.idNumber : '', currentYear);
  if (!id.ok) return { ok: false, reason: `idNumber ${id.reason}` };
  const dob = parsePartialDate(c.dateOfBirth);
  if (!dob) return { ok: false, reason: 'dateOfBirth must be YYYY-MM-DD, YYYY-MM or YYYY' };
  if (dob.year !== id.parts.birthYear) return { ok: false, reason: 'dateOfBirth year disagrees with idNumber digits 4-6' };
  if (c.gender !== id.parts.gender) return { ok: false, reason: 'gender disagrees with idNumber digit 4' };
  if (c.legacyIdNumber !== undefined && !isLegacyIdNumber(c.legacyIdNumber)) {
    return { ok: false, reason: 'legacyIdNumber must be 9 or 12 digits' };
  }
  if (c.cardIssueDate !== undefined) {
    const issued = parseFullDate(c.cardIssueDate);
    if (!issued) return { ok: false, reason: 'cardIssueDate must be YYYY-MM-DD' };
    if (issued.year < dob.year) return { ok: false, reason: 'cardIssueDate is before dateOfBirth' };
  }
  return { ok: true, citizen: stripUndefined(c) };
}

function stripUndefined(c: Citizen): Citizen {
  for (const key of Object.keys(c) as (keyof Citizen)[]) if (c[key] === undefined) delete c[key];
  return c;
}
