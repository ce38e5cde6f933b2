import { isLegacyLookup } from '../domain/idNumber.js';
import { todayUtc, type PartialDate } from '../domain/dates.js';
import { ServiceError } from '../errors.js';
import type { IndexReader } from '../index/reader.js';
import { queryBlockTexts, respelledBlockTexts } from '../index/keys.js';
import { checkIdClaim } from './idCheck.js';
import { rankCandidates } from './demographic.js';
import type { WorkItem, WorkResult } from './types.js';
import type { CandidateRefs } from './candidateRef.js';

function runOne(reader: IndexReader, refs: CandidateRefs, item: WorkItem, today: PartialDate): WorkResult {
  if (item.type === 'id') {
    const id = item.claim.idNumber;
    const records = isLegacyLookup(id) ? reader.byLegacyId(id) : [reader.byId(id)].filter((r) => r !== undefined);
    return checkIdClaim(records, item.claim, item.options, today);
  }
  const { fullName, dateOfBirth } = item.query;
  const refFor = (idNumber: string) => refs.seal(idNumber, item.client ?? '');
  const own = queryBlockTexts(fullName, dateOfBirth);
  const answer = rankCandidates(reader.byNameBlocks(own), item.query, item.options, refFor);
  if (answer.result !== 'none') return { ...answer, lookups: own.length };
  // Nobody under the name as spelt: perhaps a confused initial or a typo in the surname or given name.
  const respelled = respelledBlockTexts(fullName, dateOfBirth);
  return { ...rankCandidates(reader.byNameBlocks(respelled), item.query, item.options, refFor), lookups: own.length + respelled.length };
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
