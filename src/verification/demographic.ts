import { coarserThanClaimed, compareDates, parsePartialDate, type PartialDate } from '../domain/dates.js';
import { isNearName, matchName, NEAR_GAIN, prepareName, type PreparedName } from '../domain/names.js';
import type { NameGroup, NamedPerson } from '../index/reader.js';
import type { DemographicQuery, DemographicResult, MatchOptions } from './types.js';

/** Candidates listed by default, and at most: see bench/MATCHING.md for the choice. */
export const DEFAULT_MAX_CANDIDATES = 20;
export const MAX_CANDIDATES = 100;

/** How a person found stands against the claim; `near`: 1 for a near name (listed after the rest). */
interface Standing {
  score: number;
  precise: number;
  near: number;
}

export interface Ranking {
  answer: DemographicResult;
  /** The person a `unique` answer names. */
  one?: NamedPerson;
}

/** How a registered name stands against the claimed one: undefined when it does not agree. */
type NameStanding = Pick<Standing, 'score' | 'near'> | undefined;

/**
 * A search's claim, prepared once for both of its rankings. `names` keeps each registered
 * name's standing: the same name is met under the claimed day, its month and its year,
 * and again when the wider lookups rank everyone found.
 */
export interface Claim {
  query: DemographicQuery;
  options: MatchOptions;
  date: PartialDate;
  name: PreparedName;
  names: Map<string, NameStanding>;
}

export function claimOf(query: DemographicQuery, options: MatchOptions): Claim {
  return { query, options, date: parsePartialDate(query.dateOfBirth)!, name: prepareName(query.fullName), names: new Map() };
}

function nameStanding(fullName: string, claim: Claim): NameStanding {
  if (claim.names.has(fullName)) return claim.names.get(fullName);
  const threshold = claim.options.nameThreshold;
  const name = matchName(fullName, claim.name, threshold);
  // One word read as a slip gains at most NEAR_GAIN: a name further off is no near name.
  const near = !name.match && name.score >= threshold - NEAR_GAIN && isNearName(fullName, claim.name, threshold);
  const found = name.match || near ? { score: name.score, near: Number(near) } : undefined;
  claim.names.set(fullName, found);
  return found;
}

/**
 * Whether a person agrees with the claim: on the date of birth (at the precision
 * registered), on gender when given, and on the name, within the threshold as written
 * or as a near name. Province is asked of each person apart (ranked below).
 */
function standing(person: NamedPerson, claim: Claim): Standing | undefined {
  if (claim.query.gender && person.gender !== claim.query.gender) return undefined;
  const date = compareDates(parsePartialDate(person.dateOfBirth)!, claim.date);
  if (!date.match) return undefined;
  const name = nameStanding(person.fullName, claim);
  // Among equal names, a register that agrees to the day ranks before one that holds only the year.
  return name && { ...name, precise: Number(!coarserThanClaimed(date, claim.date)) };
}

/**
 * Ranks the people found in the query's name blocks, each group (one name and gender of
 * a block) judged once for all its people. `refFor` names a person to the client.
 *
 * "unique" means exactly one person agrees as the name is written and nobody else is
 * a near name: a claim that may be a slip of someone else's name is never answered with
 * one person, as the one it spells may not be the one meant. Near names are listed after
 * those who agree as written, with the score the name as written gets. Among equals the
 * order is the index's (by keyed hash), which means nothing.
 */
export function rankCandidates(groups: NameGroup[], claim: Claim, refFor: (idNumber: string) => string): Ranking {
  const { query, options } = claim;
  const ranked: { group: NameGroup; idNumbers: string[]; standing: Standing }[] = [];
  for (const group of groups) {
    const found = standing(group.person, claim);
    if (!found) continue;
    // The province of birth registration is the ID number's first three digits.
    const idNumbers = query.provinceCode ? group.idNumbers.filter((id) => id.startsWith(query.provinceCode!)) : group.idNumbers;
    if (idNumbers.length > 0) ranked.push({ group, idNumbers, standing: found });
  }
  ranked.sort((a, b) => a.standing.near - b.standing.near || b.standing.score - a.standing.score || b.standing.precise - a.standing.precise);
  const total = ranked.reduce((n, r) => n + r.idNumbers.length, 0);
  const agreeing = ranked.reduce((n, r) => n + (r.standing.near ? 0 : r.idNumbers.length), 0);
  const listed: { idNumber: string; person: NamedPerson; score: number }[] = [];
  for (const { group, idNumbers, standing: s } of ranked) {
    for (const idNumber of idNumbers.slice(0, options.maxCandidates - listed.length)) listed.push({ idNumber, person: group.person, score: s.score });
  }
  const result = total === 0 ? 'none' : agreeing === 1 && total === 1 ? 'unique' : 'ambiguous';
  const candidates = listed.map((l) => ({ candidateRef: refFor(l.idNumber), score: l.score }));
  const answer: DemographicResult = { result, total, candidates, subjects: listed.map((l) => l.idNumber) };
  return { answer, one: result === 'unique' ? listed[0]?.person : undefined };
}
