import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexReader } from '../../src/index/reader.js';
import { CandidateRefs } from '../../src/verification/candidateRef.js';
import { runItems } from '../../src/verification/engine.js';
import type { DemographicResult } from '../../src/verification/types.js';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';

/**
 * A name posting codes a name from the index's dictionary; a name it cannot code (three
 * middle names, a word written otherwise than the dictionary's) leaves its posting with
 * the ID number alone, and the search opens that person's record. Such people are found
 * and scored beside those whose postings tell their names.
 */
const PEOPLE = [
  { idNumber: '001190000401', fullName: 'Nguyễn Thị Hương', gender: 'female' },
  { idNumber: '001190000402', fullName: 'NGUYỄN THỊ HƯƠNG', gender: 'female' },
  { idNumber: '001190000403', fullName: 'Nguyễn Thị Thu Ngọc Hương', gender: 'female' },
  { idNumber: '001090000404', fullName: 'Nguyễn Văn Hương', gender: 'male' },
].map((p) => ({ ...p, dateOfBirth: '1990-01-02', placeOfOrigin: 'Hà Nội', placeOfResidence: 'Thành phố Hà Nội', cardIssueDate: '2021-04-01' }));

describe('people whose names a posting does not code', () => {
  let index: TempIndex;
  let reader: IndexReader;
  const refs = new CandidateRefs(Buffer.alloc(32, 3));

  beforeAll(async () => {
    index = await tempIndex({ people: PEOPLE });
    reader = IndexReader.open(index.indexDir, index.secret);
  });
  afterAll(async () => {
    await reader?.close();
    index?.remove();
  });

  const search = (fullName: string, gender?: string) => {
    const [answer] = runItems(reader, refs, [{ type: 'demographic', query: { fullName, dateOfBirth: '1990-01-02', ...(gender ? { gender } : {}) }, options: { nameThreshold: 85, maxCandidates: 20 }, client: 'bank' } as never]);
    const result = answer as DemographicResult;
    return { result: result.result, total: result.total, named: result.candidates.map((c) => [refs.open(c.candidateRef, 'bank'), c.score]) };
  };

  it('are found and scored as their records read, beside those whose postings name them', () => {
    const found = search('Nguyễn Thị Hương', 'female');
    expect(found).toMatchObject({ result: 'ambiguous', total: 3 });
    expect(found.named).toEqual(expect.arrayContaining([['001190000401', 100], ['001190000402', 100], ['001190000403', 88]]));
    expect(search('Nguyễn Thị Thu Ngọc Hương', 'female').named[0]).toEqual(['001190000403', 100]);
  });

  it('are told apart by gender as their records read', () => {
    expect(search('Nguyễn Văn Hương', 'male')).toEqual({ result: 'unique', total: 1, named: [['001090000404', 100]] });
    expect(search('NGUYỄN THỊ HƯƠNG', 'male')).toMatchObject({ result: 'none', total: 0 });
  });
});
