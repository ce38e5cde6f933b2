import { describe, expect, it } from 'vitest';
import { DEFAULT_NAME_THRESHOLD, isNearName, matchName, prepareName } from '../../src/domain/names.js';
import { editDistance } from '../../src/domain/similarity.js';
import { misdecodedUtf8 } from '../../src/domain/text.js';
import { confusionKey, spellingAlternatives, splitJoinedWord } from '../../src/domain/nameWords.js';

/** The matcher's verdicts the tables below expect. */
function expectRefused(registered: string, claimed: string): void {
  const r = matchName(registered, claimed);
  expect(r).toMatchObject({ match: false, level: 'none' });
  expect(r.score).toBeLessThan(DEFAULT_NAME_THRESHOLD);
}

function expectSlip(registered: string, claimed: string): void {
  const r = matchName(registered, claimed);
  expect(r.level).toBe('fuzzy');
  expect(r.match).toBe(true);
  expect(r.score).toBeLessThan(100);
  expect(r.score).toBeGreaterThanOrEqual(DEFAULT_NAME_THRESHOLD);
}

// Each kind of variation of the registered name, with what the matcher must answer.
describe('benign variations: equal, score 100', () => {
  it.each([
    ['identical', 'Nguyễn Văn An', 'Nguyễn Văn An', 'exact'],
    ['upper case', 'Nguyễn Văn An', 'NGUYỄN VĂN AN', 'exact'],
    ['lower case', 'Phạm Thị Mai', 'phạm thị mai', 'exact'],
    ['extra spaces', 'Nguyễn Văn An', '  nguyễn   văn an ', 'exact'],
    ['no-break space and tab', 'Lê Thị Hồng', 'Lê\u00A0Thị\tHồng', 'exact'],
    ['old tone placement claimed', 'Lê Văn Hoà', 'Lê Văn Hòa', 'exact'],
    ['old tone placement registered', 'Trần Thị Thủy', 'Trần Thị Thuỷ', 'exact'],
    ['old tone placement, khoẻ', 'Đinh Văn Khoẻ', 'Đinh Văn Khỏe', 'exact'],
    ['decomposed (NFD)', 'Trần Thị Thủy', 'Trần Thị Thủy'.normalize('NFD'), 'exact'],
    ['combining marks, tone before shape', 'Nguyễn Văn Tuấn', 'Nguye\u0303\u0302n Văn Tua\u0301\u0302n', 'exact'],
    ['combining marks, horn after dot', 'Lê Văn Phước', 'Lê Văn Phu\u031bo\u0301\u031bc', 'exact'],
    ['Windows-1252 mis-decoding', 'Đặng Hữu Phước', misdecodedUtf8('Đặng Hữu Phước', 'windows-1252'), 'exact'],
    ['Latin-1 mis-decoding', 'Nguyễn Thị Ưng', misdecodedUtf8('Nguyễn Thị Ưng', 'latin1'), 'exact'],
    ['Đ look-alike (eth)', 'Đỗ Quốc Việt', '\u00D0ỗ Quốc Việt', 'exact'],
    ['invisible characters', 'Trần Thị Phương', 'Trần Thị Ph\u00ADương\u200B', 'exact'],
    ['missing space', 'Nguyễn Văn An', 'Nguyễn VănAn', 'normalized'],
    ['missing spaces, no diacritics', 'Trần Thị Thu Hà', 'TranThi ThuHa', 'normalized'],
    ['no diacritics', 'Nguyễn Văn An', 'Nguyen Van An', 'normalized'],
    ['no diacritics, đ', 'Đỗ Quốc Việt', 'Do Quoc Viet', 'normalized'],
    ['no diacritics, upper case', 'Trần Thị Thủy', 'TRAN THI THUY', 'normalized'],
    ['no diacritics, a look-alike registered', 'Nguyễn Văn Ân', 'Nguyen Van An', 'normalized'],
  ])('%s: %s vs %s is %s', (_kind, registered, claimed, level) => {
    expect(matchName(registered, claimed)).toEqual({ match: true, level, score: 100 });
  });
});

describe('letters that look alike but differ (a/ă/â, o/ô/ơ, u/ư, d/đ)', () => {
  // Each claimed word is another real given name: a different name, refused.
  it.each([
    ['a/â', 'Nguyễn Văn An', 'Nguyễn Văn Ân'],
    ['â/a', 'Trần Văn Lâm', 'Trần Văn Lam'],
    ['a/ă', 'Phạm Văn Nam', 'Phạm Văn Năm'],
    ['a/â', 'Lê Thị Lan', 'Lê Thị Lân'],
    ['u/ư', 'Vũ Thị Thu', 'Vũ Thị Thư'],
    ['u/ư', 'Đỗ Văn Tú', 'Đỗ Văn Tứ'],
    ['ô/ơ', 'Hà Văn Hội', 'Hà Văn Hợi'],
    ['đ/d', 'Mai Thị Điệp', 'Mai Thị Diệp'],
    ['d/đ and â/a', 'Lý Văn Dân', 'Lý Văn Đan'],
  ])('%s: %s vs %s is refused', (_kind, registered, claimed) => expectRefused(registered, claimed));

  // Claimed words that are no name: never equal, at most a slip.
  it.each([
    ['a/ă', 'Nguyễn Văn Tâm', 'Nguyễn Văn Tăm'],
    ['ô/ổ', 'Phạm Thị Hồng', 'Phạm Thị Hổng'],
    ['ơ/o', 'Nguyễn Văn Sơn', 'Nguyễn Văn Son'],
    ['ư/u', 'Trần Văn Hưng', 'Trần Văn Hũng'],
    ['đ/d', 'Đặng Văn Đức', 'Đặng Văn Dức'],
  ])('%s: %s vs %s is not exact or normalized', (_kind, registered, claimed) => {
    const r = matchName(registered, claimed);
    expect(r.level).not.toBe('exact');
    expect(r.level).not.toBe('normalized');
    expect(r.score).toBeLessThan(100);
  });
});

describe('slips of a genuine claimant: accepted at the default threshold', () => {
  it.each([
    ['dropped middle name', 'Nguyễn Thị Thu Trang', 'Nguyễn Thị Trang'],
    ['dropped only middle name', 'Nguyễn Văn An', 'Nguyễn An'],
    ['extra middle name', 'Nguyễn Văn An', 'Nguyễn Văn Minh An'],
    ['given name first', 'Nguyễn Văn Thành', 'Thành Nguyễn Văn'],
    ['surname last', 'Trần Thị Mai', 'Thị Mai Trần'],
    ['typo: letter doubled', 'Trần Thị Phương', 'Trần Thị Phươngg'],
    ['typo: letter dropped', 'Lê Văn Thắng', 'Lê Văn Thắg'],
    ['typo: neighbour key', 'Nguyễn Văn Hùng', 'Nguyễn Văn Hùnh'],
    ['typo: letters swapped', 'Nguyễn Văn Hùng', 'Nguyễn Văn Hùgn'],
    ['typo in the surname', 'Nguyễn Văn Hùng', 'Nguyễb Văn Hùng'],
    ['typo, no diacritics', 'Trần Thị Phương', 'Tran Thi Phuonng'],
    ['a word without its marks', 'Nguyễn Văn An', 'Nguyen Văn An'],
    ['d/gi', 'Lê Thị Giang', 'Lê Thị Dang'],
    ['gi/r', 'Hà Văn Giang', 'Hà Văn Rang'],
    ['r/d', 'Phạm Văn Rạng', 'Phạm Văn Dạng'],
    ['tr/ch', 'Trần Văn Tuấn', 'Chần Văn Tuấn'],
    ['tr/ch into another real name (two letters for two: no typing accident)', 'Trần Văn Trung', 'Trần Văn Chung'],
    ['gi/d into another real name', 'Lê Thị Giang', 'Lê Thị Dang'],
    ['i/y with the tone placed either way', 'Nguyễn Thị Thủy', 'Nguyễn Thị Thủi'],
    ['typo: letters swapped around the tone', 'Ngô Xuân Hòa', 'Ngô Xuân Haò'],
    ['typo: a toned letter replaced', 'Nguyễn Thị Thúy Trang', 'Nguyễn Thị Thyy Trang'],
    ['missing tone mark', 'Nguyễn Văn Hùng', 'Nguyễn Văn Hung'],
    ['s/x', 'Lê Văn Sơn', 'Lê Văn Xơn'],
    ['x/s', 'Nguyễn Thị Xuân', 'Nguyễn Thị Suân'],
    ['l/n', 'Nguyễn Thị Loan', 'Nguyễn Thị Noan'],
    ['i/y', 'Lê Thị Vy', 'Lê Thị Vi'],
    ['y/i', 'Trần Văn Huy', 'Trần Văn Hui'],
    ['i/y, no diacritics', 'Lý Văn Long', 'Li Van Long'],
  ])('%s: %s vs %s', (_kind, registered, claimed) => expectSlip(registered, claimed));
});

describe('another person: refused at the default threshold', () => {
  it.each([
    ['different given name', 'Nguyễn Văn An', 'Nguyễn Văn Bình'],
    ['another real given name one letter away', 'Nguyễn Văn An', 'Nguyễn Văn Anh'],
    ['another real given name, one tone away', 'Nguyễn Văn Hùng', 'Nguyễn Văn Hưng'],
    ['another real given name, l/n apart', 'Nguyễn Văn Nam', 'Nguyễn Văn Lam'],
    ['another real given name, two letters away', 'Lê Thị Xuân', 'Lê Thị Xuyên'],
    ['another real given name, no diacritics', 'Nguyễn Văn An', 'Nguyen Van Anh'],
    ['another real given name, i/y and another tone', 'Nguyễn Văn Mỹ', 'Nguyễn Văn Mi'],
    ['another real given name, a tone away', 'Lê Thị Hòa', 'Lê Thị Hoa'],
    ['another middle name', 'Nguyễn Văn An', 'Nguyễn Hữu An'],
    ['one of two middle names another', 'Nguyễn Thị Thu Hà', 'Nguyễn Thị Mai Hà'],
    ['different surname, same other names', 'Nguyễn Văn An', 'Trần Văn An'],
    ['twin: same surname and middle, other given name', 'Lê Văn Long', 'Lê Văn Phụng'],
    ['given name alone', 'Nguyễn Văn An', 'An'],
    ['two typos in the given name', 'Trần Thị Phương', 'Trần Thị Phưonng'],
  ])('%s: %s vs %s', (_kind, registered, claimed) => expectRefused(registered, claimed));
});

describe('scores and thresholds', () => {
  it('keeps fuzzy scores below 100', () => {
    expect(matchName('Nguyễn Văn An', 'Nguyễn An').score).toBeLessThan(100);
  });

  it('orders slips below exact: one slip above two', () => {
    const one = matchName('Nguyễn Thị Thu Trang', 'Nguyễn Thị Trang').score;
    const two = matchName('Nguyễn Thị Thu Trang', 'Nguyễn Thị Trangg').score;
    expect(two).toBeLessThan(one);
  });

  it('applies the threshold given', () => {
    const strict = matchName('Nguyễn Thị Thu Trang', 'Nguyễn Thị Trang', 99);
    const lenient = matchName('Nguyễn Văn An', 'Nguyễn Văn Bình', 0);
    expect(strict).toMatchObject({ match: false, level: 'none' });
    expect(lenient).toMatchObject({ match: true, level: 'fuzzy' });
  });
});

describe('confusionKey', () => {
  it.each([
    ['giang', 'dang'], ['gì', 'dì'], ['rạng', 'dạng'], ['trung', 'chung'], ['sơn', 'xơn'], ['lan', 'nan'], ['vy', 'vi'], ['huỳnh', 'huình'],
  ])('%s and %s share a key', (a, b) => expect(confusionKey(a)).toBe(confusionKey(b)));

  it('keeps đ apart from d', () => expect(confusionKey('đan')).not.toBe(confusionKey('dan')));
});

describe('editDistance', () => {
  it.each([['an', 'an', 0], ['an', 'anh', 1], ['huong', 'huogn', 1], ['', 'abc', 3], ['trang', 'chang', 2]])('%s→%s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});

describe('spelling alternatives for the search', () => {
  it.each([
    ['xon', 'son'], ['chan', 'tran'], ['dang', 'giang'], ['ninh', 'linh'], ['thui', 'thuy'], ['hunh', 'hung'], ['nguyeen', 'nguyen'],
  ])('%s may stand for %s', (claimed, meant) => expect(spellingAlternatives(claimed)).toContain(meant));

  it('offers only real name words; for a real name, only its confused spellings', () => {
    expect(spellingAlternatives('xyzzy')).toEqual([]);
    expect(spellingAlternatives('hung')).toEqual([]);
    expect(spellingAlternatives('linh')).toEqual(['ninh']);
  });

  it('splits words joined by a lost space every way that gives two name words', () => {
    expect(splitJoinedWord('vanan')).toEqual(['van', 'an']);
    expect(splitJoinedWord('ngochung')).toEqual(expect.arrayContaining(['ngoc', 'hung']));
    expect(splitJoinedWord('nguyen')).toEqual(['nguyen']);
    expect(splitJoinedWord('qqqq')).toEqual(['qqqq']);
  });
});

describe('a claim prepared once, as a search scores it against name after name', () => {
  // The same words in other roles and places, other readings (a near name), and no diacritics.
  const registered = ['Nguyễn Văn An', 'An Văn Nguyễn', 'Văn An', 'Nguyễn Thị Ân', 'Nguyễn Văn Linh', 'Linh Văn Nguyễn', 'Nguyễn Văn Văn An', 'Nguyễn An', 'Trần Văn An', 'Nguyen Van Ninh'];
  const claims = ['Nguyễn Văn An', 'Nguyễn Văn Ninh', 'Nguyen Van An', 'An Nguyễn', 'Văn Nguyễn An'];

  it.each(claims)('scores %s as a claim prepared afresh for each name does', (claimed) => {
    const prepared = prepareName(claimed);
    for (const name of [...registered, ...registered.reverse()]) {
      expect(matchName(name, prepared)).toEqual(matchName(name, claimed));
      expect(isNearName(name, prepared)).toBe(isNearName(name, prepareName(claimed)));
    }
  });
});
