import type { Citizen } from '../domain/citizen.js';
import { coarserThanClaimed, compareDates, parsePartialDate } from '../domain/dates.js';
import { matchName, prepareName } from '../domain/names.js';
import type { DemographicQuery, DemographicResult, MatchOptions } from './types.js';

/** Candidates listed by default, and at most: see bench/MATCHING.md for the choice. */
export const DEFAULT_MAX_CANDIDATES = 20;
export const MAX_CANDIDATES = 100;

/**
 * Ranks the people found in the query's name blocks. A candidate must agree on the
 * date of birth (at the precision registered), on gender and province when given,
 * and reach the name threshold. "unique" means exactly one such person.
 */
export function rankCandidates(found: Citizen[], query: DemographicQuery, options: MatchOptions, refFor: (idNumber: string) => string): DemographicResult {
  const claimedDate = parsePartialDate(query.dateOfBirth)!;
  const claimedName = prepareName(query.fullName);
  // Among equal names, a register that agrees to the day ranks before one that holds only the year.
  const scored: { citizen: Citizen; score: number; precise: number }[] = [];
  for (const citizen of found) {
    if (query.gender && citizen.gender !== query.gender) continue;
    if (query.provinceCode && !citizen.idNumber.startsWith(query.provinceCode)) continue;
    const date = compareDates(parsePartialDate(citizen.dateOfBirth)!, claimedDate);
    if (!date.match) continue;
    const name = matchName(citizen.fullName, claimedName, options.nameThreshold);
    if (name.match) scored.push({ citizen, score: name.score, precise: Number(!coarserThanClaimed(date, claimedDate)) });
  }
  scored.sort((a, b) => b.score - a.score || b.precise - a.precise || (a.citizen.idNumber < b.citizen.idNumber ? -1 : 1));
  const result = scored.length === 0 ? 'none' : scored.length === 1 ? 'unique' : 'ambiguous';
  const listed = scored.slice(0, options.maxCandidates);
  const candidates = listed.map((s) => ({ candidateRef: refFor(s.citizen.idNumber), score: s.score }));
  return { result, total: scored.length, candidates, subjects: listed.map((s) => s.citizen.idNumber) };
}
