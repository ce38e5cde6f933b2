import { describe, expect, it } from 'vitest';
import { queryBlockTexts, recordBlockText, searchedPersons } from '../../src/index/keys.js';

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
