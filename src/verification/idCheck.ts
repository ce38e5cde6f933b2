import type { Citizen } from '../domain/citizen.js';
import { cardState } from '../domain/card.js';
import { compareDates, parseFullDate, parsePartialDate, type PartialDate } from '../domain/dates.js';
import { matchName } from '../domain/names.js';
import { matchPlace } from '../domain/places.js';
import type { FieldResults, IdClaim, IdResult, MatchOptions } from './types.js';

/** Compares each claimed field with the record. Only fields the client sent appear in the answer. */
export function compareClaim(record: Citizen, claim: IdClaim, options: MatchOptions): FieldResults {
  const fields: FieldResults = {};
  if (claim.fullName !== undefined) fields.fullName = matchName(record.fullName, claim.fullName, options.nameThreshold);
  if (claim.dateOfBirth !== undefined) {
    fields.dateOfBirth = compareDates(parsePartialDate(record.dateOfBirth)!, parsePartialDate(claim.dateOfBirth)!);
  }
  if (claim.gender !== undefined) fields.gender = { match: claim.gender === record.gender };
  if (claim.legacyIdNumber !== undefined) fields.legacyIdNumber = { match: claim.legacyIdNumber === record.legacyIdNumber };
  if (claim.cardIssueDate !== undefined) fields.cardIssueDate = { match: claim.cardIssueDate === record.cardIssueDate };
  if (claim.placeOfOrigin !== undefined) fields.placeOfOrigin = matchPlace(record.placeOfOrigin ?? '', claim.placeOfOrigin);
  if (claim.placeOfResidence !== undefined) fields.placeOfResidence = matchPlace(record.placeOfResidence ?? '', claim.placeOfResidence);
  return fields;
}

export function checkIdClaim(record: Citizen | undefined, claim: IdClaim, options: MatchOptions, today: PartialDate): IdResult {
  if (!record) return { result: 'not_found', fields: {} };
  const fields = compareClaim(record, claim, options);
  const allMatch = Object.values(fields).every((f) => f.match);
  const issued = record.cardIssueDate ? parseFullDate(record.cardIssueDate) : undefined;
  const card = cardState(parsePartialDate(record.dateOfBirth)!, issued, record.cardStatus === 'revoked', today);
  return { result: allMatch ? 'match' : 'mismatch', fields, status: { alive: record.status === 'alive', card } };
}
