import { describe, expect, it } from 'vitest';
import { keyHasher, namePosting, POSTING_TAG_BYTES, queryBlockTexts, recordBlockText, searchedPersons } from '../../src/index/keys.js';

describe('the blocks a search looks up', () => {
  it('finds a registered name of nine words or more when it is searched exactly as registered', () => {
    const name = 'Nguyễn Thị Ngọc Minh Thu Hà Phương Lan Anh';
    expect(name.split(' ')).toHaveLength(9);
    expect(queryBlockTexts(name, '1990-01-02')).toContain(recordBlockText(name, '1990-01-02'));
  });
});

describe('whom a search that found nobody was about', () => {
  it('is the same person whatever form the name was sent in', () => {
    const forms = ['Trần Thị Phương', 'TrầnThị Phương', 'Phương Trần Thị', 'Thị Trần Phương', 'Trầnn Thị Phương', 'Tran Thi Phuongg', 'PHƯƠNG TRẦN'];
    for (const form of forms) expect(searchedPersons(form, '1990-01-02'), form).toContain('phuong tran');
  });

  it('leaves out a pair nobody is filed under when the claim is written with diacritics', () => {
    // "Thị" is never a given name; without diacritics "thi" may be the given name "Thi", and counts.
    expect(searchedPersons('Nguyễn Thị Hương', '1990-01-02')).not.toContain('nguyen thi');
    expect(searchedPersons('Nguyen Thi Huong', '1990-01-02')).toContain('nguyen thi');
    expect(searchedPersons('Nguyễn Thị Hương', '1990-01-02')).toContain('huong nguyen');
  });
});

describe('a name posting', () => {
  const hash = keyHasher(Buffer.alloc(32, 7));
  const recordKey = Buffer.alloc(12, 1);
  const person: { fullName: string; dateOfBirth: string; gender: 'male' | 'female' } = { fullName: 'Nguyễn Thị Hương', dateOfBirth: '1995-08-08', gender: 'female' };
  const tag = (p: typeof person) => namePosting(hash, p, recordKey).posting.subarray(0, POSTING_TAG_BYTES).toString('hex');

  it('is a tag, then the record key', () => {
    const { posting } = namePosting(hash, person, recordKey);
    expect(posting).toHaveLength(POSTING_TAG_BYTES + 12);
    expect(posting.subarray(POSTING_TAG_BYTES).equals(recordKey)).toBe(true);
  });

  it('has one tag for one name and gender of a block, however the name is cased or spaced', () => {
    expect(tag({ ...person, fullName: 'NGUYỄN  THỊ HƯƠNG' })).toBe(tag(person));
    expect(tag({ ...person, fullName: 'Nguyễn Thị Hương'.normalize('NFD') })).toBe(tag(person));
  });

  it('tells apart another middle name, tone, gender, and the same name in another block', () => {
    const others = [{ fullName: 'Nguyễn Thu Hương' }, { fullName: 'Nguyễn Thị Hướng' }, { gender: 'male' as const }, { dateOfBirth: '1995-08-09' }, { dateOfBirth: '1995' }];
    const tags = new Set([tag(person), ...others.map((o) => tag({ ...person, ...o }))]);
    expect(tags.size).toBe(others.length + 1);
  });

  it('is keyed: another secret makes other tags', () => {
    const other = keyHasher(Buffer.alloc(32, 8));
    expect(namePosting(other, person, recordKey).posting.subarray(0, POSTING_TAG_BYTES).toString('hex')).not.toBe(tag(person));
  });
});
