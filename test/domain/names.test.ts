import { describe, expect, it } from 'vitest';
import { DEFAULT_NAME_THRESHOLD, matchName } from '../../src/domain/names.js';
import { editDistance } from '../../src/domain/similarity.js';

describe('matchName levels', () => {
  it.each([
    ['Nguyễn Văn An', 'Nguyễn Văn An', 'exact'],
    ['Nguyễn Văn An', 'NGUYỄN VĂN AN', 'exact'],
    ['Nguyễn Văn An', '  nguyễn   văn an ', 'exact'],
    ['Lê Văn Hòa', 'Lê Văn Hoà', 'exact'],
    ['Trần Thị Thủy', 'Trần Thị Thuỷ', 'exact'],
    ['Trần Thị Thủy', 'Trần Thị Thủy'.normalize('NFD'), 'exact'],
    ['Đỗ Quốc Việt', '\u00D0ỗ Quốc Việt', 'exact'],
    ['Nguyễn Văn An', 'Nguyen Van An', 'normalized'],
    ['Đỗ Quốc Việt', 'Do Quoc Viet', 'normalized'],
    ['Trần Thị Thủy', 'TRAN THI THUY', 'normalized'],
  ])('%s vs %s is %s', (registered, claimed, level) => {
    const result = matchName(registered, claimed);
    expect(result).toEqual({ match: true, level, score: 100 });
  });

  // Letters that look alike but are different letters: equal only once diacritics are dropped.
  it.each([
    ['Nguyễn Văn An', 'Nguyễn Văn Ân'],
    ['Nguyễn Văn Tâm', 'Nguyễn Văn Tăm'],
    ['Phạm Thị Hồng', 'Phạm Thị Hổng'],
    ['Lê Văn Tơ', 'Lê Văn Tô'],
    ['Trần Văn Tư', 'Trần Văn Tu'],
    ['Đặng Văn Đức', 'Dặng Văn Dức'],
  ])('%s vs %s is not exact, only normalized', (registered, claimed) => {
    expect(matchName(registered, claimed).level).toBe('normalized');
  });

  it('scores a dropped middle name as a fuzzy match', () => {
    const r = matchName('Nguyễn Thị Thu Trang', 'Nguyễn Thị Trang');
    expect(r.level).toBe('fuzzy');
    expect(r.match).toBe(true);
    expect(r.score).toBeLessThan(100);
    expect(r.score).toBeGreaterThanOrEqual(DEFAULT_NAME_THRESHOLD);
  });

  it('scores an extra middle name as a fuzzy match', () => {
    expect(matchName('Nguyễn Văn An', 'Nguyễn Văn Minh An')).toMatchObject({ match: true, level: 'fuzzy' });
  });

  it('scores swapped order (given name first) as a fuzzy match', () => {
    expect(matchName('Nguyễn Văn Thành', 'Thành Nguyễn Văn')).toMatchObject({ match: true, level: 'fuzzy' });
  });

  it('scores a one-letter typo in a long given name as a fuzzy match', () => {
    expect(matchName('Trần Thị Phương', 'Tran Thi Phuong'.replace('Phuong', 'Phuonng'))).toMatchObject({ match: true, level: 'fuzzy' });
  });

  it('refuses a different given name', () => {
    const r = matchName('Nguyễn Văn An', 'Nguyễn Văn Bình');
    expect(r).toMatchObject({ match: false, level: 'none' });
    expect(r.score).toBeLessThan(DEFAULT_NAME_THRESHOLD);
  });

  it('refuses a different surname with the same given name', () => {
    expect(matchName('Nguyễn Văn An', 'Trần Văn An').match).toBe(false);
  });

  it('keeps fuzzy scores below 100', () => {
    expect(matchName('Nguyễn Văn An', 'Nguyễn An').score).toBeLessThan(100);
  });

  it('applies the threshold given', () => {
    const strict = matchName('Nguyễn Thị Thu Trang', 'Nguyễn Thị Trang', 99);
    const lenient = matchName('Nguyễn Văn An', 'Nguyễn Văn Bình', 0);
    expect(strict).toMatchObject({ match: false, level: 'none' });
    expect(lenient).toMatchObject({ match: true, level: 'fuzzy' });
  });
});

describe('editDistance', () => {
  it.each([['an', 'an', 0], ['an', 'anh', 1], ['huong', 'huogn', 1], ['', 'abc', 3], ['trang', 'chang', 2]])('%s→%s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});
