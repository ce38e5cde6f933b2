import type { Citizen } from '../domain/citizen.js';
import { coarserThanClaimed, compareDates, parsePartialDate, type PartialDate } from '../domain/dates.js';
import { canonicalText } from '../domain/text.js';
import { isNearName, matchName, NEAR_GAIN, prepareName, type PreparedName } from '../domain/names.js';
import type { NameGroup } from '../index/reader.js';
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

/** What a search's ranking needs of the index besides the groups: opening a person, and naming them to the client. */
export interface People {
  open(recordKey: Buffer): Citizen | undefined;
  refFor(idNumber: string): string;
}

export interface Ranking {
  answer: DemographicResult;
  /** The person a `unique` answer names. */
  one?: Citizen;
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
function standing(citizen: Citizen, claim: Claim): Standing | undefined {
  if (claim.query.gender && citizen.gender !== claim.query.gender) return undefined;
  const date = compareDates(parsePartialDate(citizen.dateOfBirth)!, claim.date);
  if (!date.match) return undefined;
  const name = nameStanding(citizen.fullName, claim);
  // Among equal names, a register that agrees to the day ranks before one that holds only the year.
  return name && { ...name, precise: Number(!coarserThanClaimed(date, claim.date)) };
}

const sameNameAndGender = (a: Citizen, b: Citizen) => a.gender === b.gender && (a.fullName === b.fullName || canonicalText(a.fullName) === canonicalText(b.fullName));

/**
 * Ranks the people found in the query's name blocks. Each group (one name and gender of
 * a block) is judged by the one person opened; the others of a group are opened only to
 * be listed, or when the query names a province.
 *
 * "unique" means exactly one person agrees as the name is written and nobody else is
 * a near name: a claim that may be a slip of someone else's name is never answered with
 * one person, as the one it spells may not be the one meant. Near names are listed after
 * those who agree as written, with the score the name as written gets. Among equals the
 * order is the index's (by keyed hash), which means nothing.
 */
export function rankCandidates(groups: NameGroup[], claim: Claim, people: People): Ranking {
  const { query, options } = claim;
  const ranked: { group: NameGroup; keys: Buffer[]; standing: Standing }[] = [];
  // A group's person by record key: the first is open already.
  const personOf = (group: NameGroup, key: Buffer) => (key === group.keys[0] ? group.first : people.open(key));
  for (const group of groups) {
    const found = standing(group.first, claim);
    if (!found) continue;
    const keys = query.provinceCode ? group.keys.filter((k) => personOf(group, k)?.idNumber.startsWith(query.provinceCode!)) : group.keys;
    if (keys.length > 0) ranked.push({ group, keys, standing: found });
  }
  ranked.sort((a, b) => a.standing.near - b.standing.near || b.standing.score - a.standing.score || b.standing.precise - a.standing.precise);
  const total = ranked.reduce((n, r) => n + r.keys.length, 0);
  const agreeing = ranked.reduce((n, r) => n + (r.standing.near ? 0 : r.keys.length), 0);
  const listed: { citizen: Citizen; score: number }[] = [];
  for (const { group, keys, standing: s } of ranked) {
    for (const key of keys) {
      if (listed.length === options.maxCandidates) break;
      const citizen = personOf(group, key);
      if (!citizen) continue;
      // Two names of a block whose tags collide (once in ~10^9 pairs): a person listed is judged as themselves.
      const own = sameNameAndGender(citizen, group.first) ? s : standing(citizen, claim);
      if (own) listed.push({ citizen, score: own.score });
    }
  }
  const result = total === 0 ? 'none' : agreeing === 1 && total === 1 ? 'unique' : 'ambiguous';
  const candidates = listed.map((l) => ({ candidateRef: people.refFor(l.citizen.idNumber), score: l.score }));
  const answer: DemographicResult = { result, total, candidates, subjects: listed.map((l) => l.citizen.idNumber) };
  return { answer, one: result === 'unique' ? listed[0]?.citizen : undefined };
}
