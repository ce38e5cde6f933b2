import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexReader } from '../../src/index/reader.js';
import { CandidateRefs } from '../../src/verification/candidateRef.js';
import { runItems } from '../../src/verification/engine.js';
import type { DemographicResult } from '../../src/verification/types.js';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';

/**
 * A search answers `unique` only when one person agrees with the name as written and
 * nobody on record is a near name of it (one word another real name a slip away): a claim
 * that may be someone else's name mistyped gets both, never the wrong one alone.
 */
const PEOPLE = [
  { idNumber: '001088000301', fullName: 'Nguyễn Văn Linh', dateOfBirth: '1988-03-14', gender: 'male' },
  { idNumber: '001088000302', fullName: 'Nguyễn Văn Ninh', dateOfBirth: '1988-03-14', gender: 'male' },
  { idNumber: '001088000303', fullName: 'Trần Văn Bảo', dateOfBirth: '1988-03-14', gender: 'male' },
  { idNumber: '001188000304', fullName: 'Lê Thị Mai', dateOfBirth: '1988-03-14', gender: 'female' },
  { idNumber: '001075000305', fullName: 'Đỗ Văn Tám', dateOfBirth: '1975', gender: 'male' },
  { idNumber: '001075000306', fullName: 'Đỗ Văn Tâm', dateOfBirth: '1975-06-01', gender: 'male' },
  // Names a slipped claim fits loosely (a word left over), beside the person meant.
  { idNumber: '001092000307', fullName: 'Trần Văn', dateOfBirth: '1992-02-02', gender: 'male' },
  { idNumber: '001092000308', fullName: 'Trần Văn Sơn', dateOfBirth: '1992-02-02', gender: 'male' },
  { idNumber: '001092000309', fullName: 'Lê Văn', dateOfBirth: '1992-02-02', gender: 'male' },
  { idNumber: '001092000310', fullName: 'Lê Văn', dateOfBirth: '1992-02-02', gender: 'male' },
  { idNumber: '001092000311', fullName: 'Lê Văn Sơn', dateOfBirth: '1992-02-02', gender: 'male' },
  { idNumber: '001092000312', fullName: 'Nguyễn Xuân', dateOfBirth: '1992-02-02', gender: 'male' },
  { idNumber: '001092000313', fullName: 'Nguyễn Xuân Hải', dateOfBirth: '1992-02-02', gender: 'male' },
].map((p) => ({ ...p, placeOfOrigin: 'Hà Nội', placeOfResidence: 'Thành phố Hà Nội', cardIssueDate: '2021-04-01' }));

describe('near names in a search by name and date of birth', () => {
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

  const search = (fullName: string, dateOfBirth: string, gender?: string) => {
    const [answer] = runItems(reader, refs, [{ type: 'demographic', query: { fullName, dateOfBirth, ...(gender ? { gender } : {}) }, options: { nameThreshold: 85, maxCandidates: 20 }, client: 'bank' } as never]);
    const result = answer as DemographicResult;
    return { result: result.result, total: result.total, named: result.candidates.map((c) => refs.open(c.candidateRef, 'bank')), scores: result.candidates.map((c) => c.score) };
  };

  it('names both when the claim spells one real person and is a slip of another ("Ninh" and "Linh"), the one spelt first', () => {
    expect(search('Nguyễn Văn Ninh', '1988-03-14')).toEqual({ result: 'ambiguous', total: 2, named: ['001088000302', '001088000301'], scores: [100, 50] });
    expect(search('Nguyen Van Linh', '1988-03-14')).toMatchObject({ result: 'ambiguous', total: 2, named: ['001088000301', '001088000302'] });
  });

  it('never answers unique with a near name alone: a claim nobody agrees with as written lists those it may have meant', () => {
    const found = search('Nguyễn Văn Vinh', '1988-03-14');
    expect(found).toMatchObject({ result: 'ambiguous', total: 2, scores: [50, 50] });
    // Equal scores: in the index's order, which means nothing.
    expect(found.named.sort()).toEqual(['001088000301', '001088000302']);
  });

  it('answers unique when nobody else is within a slip, a typo that lands on no real name included', () => {
    expect(search('Trần Văn Bảo', '1988-03-14')).toMatchObject({ result: 'unique', total: 1, named: ['001088000303'] });
    expect(search('Trần Văn Bảoo', '1988-03-14')).toMatchObject({ result: 'unique', total: 1, named: ['001088000303'] });
    expect(search('Lê Thị Mai', '1988-03-14')).toMatchObject({ result: 'unique', named: ['001188000304'] });
  });

  it('lists the person meant where the slipped claim fits someone else only loosely, never that one alone', () => {
    // "Sơm" for Sơn: "Trần Văn" fits it as a name with a word left over.
    expect(search('Trần Văn Sơm', '1992-02-02')).toMatchObject({ result: 'ambiguous', named: expect.arrayContaining(['001092000308']) });
    // Two such loose fits: the answer was ambiguous already, and still must name the one meant.
    expect(search('Lê Văn Sơm', '1992-02-02')).toMatchObject({ result: 'ambiguous', named: expect.arrayContaining(['001092000311']) });
    // "Hảy" for Hải: a word that also reads as two names run together ("Hà", "Y") is respelled as written too.
    expect(search('Nguyễn Xuân Hảy', '1992-02-02')).toMatchObject({ result: 'ambiguous', named: expect.arrayContaining(['001092000313']) });
  });

  it('finds a near name registered with only a year, and still filters on gender', () => {
    expect(search('Đỗ Văn Tâm', '1975-06-01')).toMatchObject({ result: 'ambiguous', total: 2, named: ['001075000306', '001075000305'] });
    expect(search('Nguyễn Văn Ninh', '1988-03-14', 'female')).toMatchObject({ result: 'none', total: 0 });
  });
});
