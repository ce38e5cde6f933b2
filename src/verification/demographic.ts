import type { Citizen } from '../domain/citizen.js';
import { coarserThanClaimed, compareDates, parsePartialDate } from '../domain/dates.js';
import { isNearName, matchName, NEAR_GAIN, prepareName } from '../domain/names.js';
import type { DemographicQuery, DemographicResult, MatchOptions } from './types.js';

/** Candidates listed by default, and at most: see bench/MATCHING.md for the choice. */
export const DEFAULT_MAX_CANDIDATES = 20;
export const MAX_CANDIDATES = 100;

/**
 * Ranks the people found in the query's name blocks. A candidate must agree on the
 * date of birth (at the precision registered), on gender and province when given,
 * and on the name: within the threshold as the name is written, or (a near name) only
 * when a claimed word that is another real name is read as a slip ("Ninh" for "Linh").
 *
 * "unique" means exactly one person agrees as the name is written and nobody else is
 * a near name: a claim that may be a slip of someone else's name is never answered with
 * one person, as the one it spells may not be the one meant. Near names are listed after
 * those who agree as written, with the score the name as written gets.
 */
export function rankCandidates(found: Citizen[], query: DemographicQuery, options: MatchOptions, refFor: (idNumber: string) => string): DemographicResult {
  const claimedDate = parsePartialDate(query.dateOfBirth)!;
  const claimedName = prepareName(query.fullName);
  // Among equal names, a register that agrees to the day ranks before one that holds only the year.
  const scored: { citizen: Citizen; score: number; precise: number; near: number }[] = [];
  for (const citizen of found) {
    if (query.gender && citizen.gender !== query.gender) continue;
    if (query.provinceCode && !citizen.idNumber.startsWith(query.provinceCode)) continue;
    const date = compareDates(parsePartialDate(citizen.dateOfBirth)!, claimedDate);
    if (!date.match) continue;
    const name = matchName(citizen.fullName, claimedName, options.nameThreshold);
    // One word read as a slip gains at most NEAR_GAIN: a name further off is no near name.
    const near = !name.match && name.score >= options.nameThreshold - NEAR_GAIN && isNearName(citizen.fullName, claimedName, options.nameThreshold);
    if (name.match || near) scored.push({ citizen, score: name.score, precise: Number(!coarserThanClaimed(date, claimedDate)), near: Number(near) });
  }
  scored.sort((a, b) => a.near - b.near || b.score - a.score || b.precise - a.precise || (a.citizen.idNumber < b.citizen.idNumber ? -1 : 1));
  const agreeing = scored.filter((s) => !s.near).length;
  const result = scored.length === 0 ? 'none' : agreeing === 1 && scored.length === 1 ? 'unique' : 'ambiguous';
  const listed = scored.slice(0, options.maxCandidates);
  const candidates = listed.map((s) => ({ candidateRef: refFor(s.citizen.idNumber), score: s.score }));
  return { result, total: scored.length, candidates, subjects: listed.map((s) => s.citizen.idNumber) };
}
