import type { Citizen } from '../domain/citizen.js';
import { cardState } from '../domain/card.js';
import { coarserThanClaimed, compareDates, parseFullDate, parsePartialDate, type PartialDate } from '../domain/dates.js';
import { isLegacyLookup } from '../domain/idNumber.js';
import { matchName } from '../domain/names.js';
import { matchPlace } from '../domain/places.js';
import type { FieldResults, IdClaim, IdResult, MatchOptions } from './types.js';

/** Compares each claimed field with the record. Only fields the client sent appear in the answer. */
export function compareClaim(record: Citizen, claim: IdClaim, options: MatchOptions): FieldResults {
  const fields: FieldResults = {
    fullName: matchName(record.fullName, claim.fullName, options.nameThreshold),
    dateOfBirth: compareDates(parsePartialDate(record.dateOfBirth)!, parsePartialDate(claim.dateOfBirth)!),
  };
  if (claim.gender !== undefined) fields.gender = { match: claim.gender === record.gender };
  if (claim.legacyIdNumber !== undefined) fields.legacyIdNumber = { match: claim.legacyIdNumber === record.legacyIdNumber };
  if (claim.cardIssueDate !== undefined) fields.cardIssueDate = { match: claim.cardIssueDate === record.cardIssueDate };
  if (claim.placeOfOrigin !== undefined) fields.placeOfOrigin = matchPlace(record.placeOfOrigin ?? '', claim.placeOfOrigin);
  if (claim.placeOfResidence !== undefined) fields.placeOfResidence = matchPlace(record.placeOfResidence ?? '', claim.placeOfResidence);
  return fields;
}

function outcome(fields: FieldResults, claimedDate: PartialDate): 'match' | 'partial' | 'mismatch' {
  if (!Object.values(fields).every((f) => f.match)) return 'mismatch';
  return coarserThanClaimed(fields.dateOfBirth!, claimedDate) ? 'partial' : 'match';
}

const RANK = { match: 2, partial: 1, mismatch: 0 };
/** How well a record answers the claim, to choose among the holders of one legacy number. */
const strength = (result: 'match' | 'partial' | 'mismatch', fields: FieldResults) =>
  RANK[result] * 1000 + Object.values(fields).filter((f) => f.match).length * 100 + (fields.fullName?.score ?? 0);

/**
 * The claim against the record of its ID number. Old 9-digit numbers were issued per
 * province and some were issued twice, so a legacy number may find several records:
 * the answer is about the one the claim fits best.
 */
export function checkIdClaim(records: Citizen[], claim: IdClaim, options: MatchOptions, today: PartialDate): IdResult {
  const claimedDate = parsePartialDate(claim.dateOfBirth)!;
  let best: { record: Citizen; fields: FieldResults; result: 'match' | 'partial' | 'mismatch'; strength: number } | undefined;
  for (const record of records) {
    const fields = compareClaim(record, claim, options);
    const result = outcome(fields, claimedDate);
    const s = strength(result, fields);
    if (!best || s > best.strength) best = { record, fields, result, strength: s };
  }
  if (!best) return { result: 'not_found', fields: {} };
  const { record, fields, result } = best;
  // Whether the person lives and their card is valid is told only about the person the
  // client identified: a mismatching claim learns nothing about whoever holds the number.
  let answer: IdResult;
  if (result === 'mismatch') answer = { result, fields };
  else {
    const issued = record.cardIssueDate ? parseFullDate(record.cardIssueDate) : undefined;
    const card = cardState(parsePartialDate(record.dateOfBirth)!, issued, record.cardStatus === 'revoked', today);
    answer = { result, fields, status: { alive: record.status === 'alive', card } };
  }
  if (isLegacyLookup(claim.idNumber)) answer.identifiedBy = 'legacyIdNumber';
  answer.subjects = [record.idNumber];
  return answer;
}
