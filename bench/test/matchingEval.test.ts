import { describe, expect, it } from 'vitest';
import { canonicalText, foldDiacritics } from '../../src/domain/text.js';
import { editDistance } from '../../src/domain/similarity.js';
import { Random } from '../../src/synth/random.js';
import { syntheticCitizens } from '../../src/synth/generator.js';
import { NAME_VARIATIONS } from '../matching/variations.js';
import { buildPairs, KINDS } from '../matching/pairs.js';
import { tallySearch, tallyVerify, THRESHOLDS } from '../matching/evaluate.js';

// The evaluation is only as good as its labelled set: each variation must be what its name says.
const NAMES = ['Nguyễn Thị Thu Trang', 'Trần Văn Hòa', 'Lê Thị Thủy', 'Phạm Quốc Trung', 'Đặng Ngọc Linh', 'Vũ Thị Giang', 'Hoàng Văn Sơn'];
const random = new Random(3);

describe('name variations of the evaluation', () => {
  it.each(NAMES)('benign forms of %s keep the letters', (name) => {
    const canon = canonicalText(name);
    expect(canonicalText(NAME_VARIATIONS.decomposed(name))).toBe(canon);
    expect(canonicalText(NAME_VARIATIONS.upperCase(name))).toBe(canon);
    expect(canonicalText(NAME_VARIATIONS.legacyEncoding(name, random))).toBe(canon);
    expect(NAME_VARIATIONS.noDiacritics(name)).toBe(foldDiacritics(canon).replace(/(^|\s)\S/g, (c) => c.toUpperCase()));
    const spaced = NAME_VARIATIONS.spacing(name, random);
    expect(spaced.replace(/\s/g, '')).toBe(name.replace(/\s/g, ''));
  });

  it('moves the tone between old and new placement, both ways', () => {
    expect(NAME_VARIATIONS.tonePlacement('Trần Văn Hòa', random)).toBe('Trần Văn Hoà');
    expect(NAME_VARIATIONS.tonePlacement('Lê Thị Thuỷ', random)).toBe('Lê Thị Thủy');
    expect(NAME_VARIATIONS.tonePlacement('Phạm Quốc Trung', random)).toBeUndefined();
  });

  it.each(NAMES)('a typo in %s changes one letter', (name) => {
    for (let i = 0; i < 20; i++) {
      const typed = NAME_VARIATIONS.typo(name, random);
      if (typed === undefined) continue;
      expect(typed).not.toBe(name);
      expect(editDistance(typed.normalize('NFC'), name)).toBe(1);
    }
  });

  it('confuses the letters Vietnamese writers confuse', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(NAME_VARIATIONS.spellingConfusion('Phạm Quốc Trung', random)!);
    expect(seen).toEqual(new Set(['Phạm Quốc Chung']));
    for (let i = 0; i < 50; i++) expect(['Nê Diệu', 'Lê Giệu', 'Lê Riệu']).toContain(NAME_VARIATIONS.spellingConfusion('Lê Diệu', random));
    expect(NAME_VARIATIONS.spellingConfusion('Võ Thúy', new Random(2))).toBe('Võ Thúi');
  });

  it('drops and adds middle names and swaps the order', () => {
    expect(NAME_VARIATIONS.droppedMiddle('Trần Văn Hòa', random)).toBe('Trần Hòa');
    expect(NAME_VARIATIONS.droppedMiddle('Trần Hòa', random)).toBeUndefined();
    expect(NAME_VARIATIONS.extraMiddle('Trần Văn Hòa', random, 'male').split(' ')).toHaveLength(4);
    expect(['Hòa Trần Văn', 'Văn Hòa Trần']).toContain(NAME_VARIATIONS.swappedOrder('Trần Văn Hòa', random));
  });
});

describe('labelled pairs', () => {
  const sample = [...syntheticCitizens(1, 0, 20_000)];
  const pairs = buildPairs(sample, 50, 7);

  it('builds pairs of every kind from the sample', () => {
    for (const k of KINDS) expect(pairs.get(k.key)!.length, k.key).toBeGreaterThan(0);
  });

  it('makes impostors of other people, and genuine claims of the target', () => {
    for (const p of pairs.get('otherMiddleName')!) expect(canonicalText(p.claim.fullName)).not.toBe(canonicalText(p.target.fullName));
    for (const p of pairs.get('sameNameSameBirthday')!) {
      const [a, b] = p.expected!;
      expect(a.idNumber).not.toBe(b.idNumber);
      expect(canonicalText(a.fullName)).toBe(canonicalText(b.fullName));
      expect(a.dateOfBirth).toBe(b.dateOfBirth);
    }
    for (const p of pairs.get('legacyIdNumber')!) expect(p.claim.idNumber).toBe(p.target.legacyIdNumber);
    for (const p of pairs.get('partialDateOnRecord')!) expect(p.claim.dateOfBirth.startsWith(p.target.dateOfBirth)).toBe(true);
  });
});

describe('tallies', () => {
  const empty = () => ({ pairs: 0, accepted: 0, partial: 0, errors: 0, transposed: 0, acceptedAt: THRESHOLDS.map(() => 0) });

  it('accepts at each threshold from the name score and the other fields', () => {
    const tally = empty();
    tallyVerify(tally, { result: 'match', fields: { fullName: { match: true, score: 92 }, dateOfBirth: { match: true, precision: 'day' } } }, 85);
    tallyVerify(tally, { result: 'mismatch', fields: { fullName: { match: true, score: 100 }, dateOfBirth: { match: false, precision: 'day', transposed: true } } }, 85);
    tallyVerify(tally, { result: 'partial', fields: { fullName: { match: true, score: 100 }, dateOfBirth: { match: true, precision: 'year' } } }, 85);
    expect(tally).toMatchObject({ pairs: 3, accepted: 1, partial: 1, transposed: 1 });
    expect(tally.acceptedAt[THRESHOLDS.indexOf(92)]).toBe(1);
    expect(tally.acceptedAt[THRESHOLDS.indexOf(95)]).toBe(0);
  });

  it('refuses to tally an answer its decision rule disagrees with', () => {
    const answer = { result: 'match', fields: { fullName: { match: true, score: 80 } } };
    expect(() => tallyVerify(empty(), answer, 85)).toThrow(/disagrees/);
  });

  it('classifies search answers by who they name', () => {
    const tally = { queries: 0, uniqueRight: 0, ambiguousWithRight: 0, ambiguousWithRightInMax: 0, uniqueWrong: 0, missed: 0, errors: 0 };
    // References that name the ID number they stand for, so the test can read them.
    const candidates = (...ids: string[]) => ids.map((candidateRef) => ({ candidateRef, score: 100 }));
    const identify = (ref: string) => ref;
    tallySearch(tally, { result: 'unique', candidates: candidates('001090000101') }, ['001090000101'], 2, identify);
    tallySearch(tally, { result: 'unique', candidates: candidates('001090000101') }, ['001090000101', '030195000707'], 2, identify);
    tallySearch(tally, { result: 'ambiguous', candidates: candidates('030195000707', '001090000101') }, ['001090000101', '030195000707'], 2, identify);
    tallySearch(tally, { result: 'ambiguous', candidates: candidates('030195000707', '002090000202', '001090000101') }, ['001090000101'], 2, identify);
    tallySearch(tally, { result: 'none', candidates: [] }, ['001090000101'], 2, identify);
    expect(tally).toEqual({ queries: 5, uniqueRight: 1, ambiguousWithRight: 1, ambiguousWithRightInMax: 2, uniqueWrong: 1, missed: 2, errors: 0 });
  });
});
