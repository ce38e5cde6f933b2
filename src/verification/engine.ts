import { isLegacyLookup } from '../domain/idNumber.js';
import { todayUtc, type PartialDate } from '../domain/dates.js';
import { ServiceError } from '../errors.js';
import type { IndexReader } from '../index/reader.js';
import { nearBlockTexts, queryBlockTexts, widerBlockTexts } from '../index/keys.js';
import { checkIdClaim } from './idCheck.js';
import { claimOf, rankCandidates } from './demographic.js';
import type { WorkItem, WorkResult } from './types.js';
import type { CandidateRefs } from './candidateRef.js';

/** The score of a name equal to the claim, but for case, marks or spacing. */
const EXACT = 100;

function runOne(reader: IndexReader, refs: CandidateRefs, item: WorkItem, today: PartialDate): WorkResult {
  if (item.type === 'id') {
    const id = item.claim.idNumber;
    const records = isLegacyLookup(id) ? reader.byLegacyId(id) : [reader.byId(id)].filter((r) => r !== undefined);
    return checkIdClaim(records, item.claim, item.options, today);
  }
  const { fullName, dateOfBirth } = item.query;
  const refFor = (idNumber: string) => refs.seal(idNumber, item.client ?? '');
  const own = queryBlockTexts(fullName, dateOfBirth);
  // Blocks read, so that none is read twice: the wider lookups below can reach the claim's own.
  const read = new Set<string>();
  const found = reader.byNameGroups(own, read);
  const claim = claimOf(item.query, item.options);
  const { answer, one } = rankCandidates(found, claim, refFor);
  // Several agree, one of them exactly as written: the claim holds no slip that could change the answer.
  const exact = answer.candidates[0]?.score === EXACT;
  if (answer.result === 'ambiguous' && exact) return { ...answer, lookups: own.length };
  // One person under the name as spelt: the claim may be someone else's name mistyped into
  // this one's ("Ninh" for "Linh"). Whoever it may have meant is looked for, so that a slip
  // never gets the wrong person answered as unique. Where those found agree only loosely (a
  // word left over, a slip), or nobody does, the claim's own words may hold the slip
  // (a typo, a confused initial): their other spellings are looked up too, so that the
  // person meant is listed among those who merely resemble the claim.
  const near = one ? nearBlockTexts(one.fullName, dateOfBirth) : [];
  const wider = one && exact ? near : [...near, ...widerBlockTexts(fullName, dateOfBirth)];
  const before = read.size;
  const more = reader.byNameGroups(wider, read);
  const lookups = own.length + read.size - before;
  return more.length === 0 ? { ...answer, lookups } : { ...rankCandidates([...found, ...more], claim, refFor).answer, lookups };
}

/**
 * Runs a batch of validated items against the index, naming the people a search finds by
 * references (`refs`) only the searching client can use. One item's failure is its own
 * error; the others still get answers.
 */
export function runItems(reader: IndexReader, refs: CandidateRefs, items: WorkItem[], now = new Date()): WorkResult[] {
  const today = todayUtc(now);
  return items.map((item) => {
    try {
      return runOne(reader, refs, item, today);
    } catch {
      return new ServiceError('INTERNAL').toBody();
    }
  });
}
