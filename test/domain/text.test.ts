import { describe, expect, it } from 'vitest';
import { canonicalText, foldDiacritics, foldedTokens, misdecodedUtf8 } from '../../src/domain/text.js';

describe('canonicalText', () => {
  it.each([
    ['Hòa', 'hoà'], ['Hoà', 'hoà'], ['HÒA', 'hoà'], ['Thủy', 'thuỷ'], ['Thuỷ', 'thuỷ'], ['Khỏe', 'khoẻ'],
    ['Thúy', 'thuý'], ['Ngụy', 'nguỵ'], ['tùy', 'tuỳ'], ['Lọa', 'loạ'],
  ])('moves old-style tone placement in %s to the main vowel', (input, expected) => {
    expect(canonicalText(input)).toBe(expected);
  });

  it.each([['Quý', 'quý'], ['Hoàng', 'hoàng'], ['Huỳnh', 'huỳnh'], ['Thuận', 'thuận'], ['Khoa', 'khoa'], ['Của', 'của'], ['Mùa', 'mùa'], ['Tuấn', 'tuấn']])(
    'leaves %s alone (qu-, final consonant, no old-style rhyme)',
    (input, expected) => expect(canonicalText(input)).toBe(expected),
  );

  it('composes NFD input', () => {
    const nfd = 'Nguyễn Thị Thủy'.normalize('NFD');
    expect(nfd.length).toBeGreaterThan('Nguyễn Thị Thủy'.length);
    expect(canonicalText(nfd)).toBe('nguyễn thị thuỷ');
  });

  it('collapses spaces, tabs and no-break spaces, and trims', () => {
    expect(canonicalText('  Nguyễn\u00A0\u00A0Văn\tAn  ')).toBe('nguyễn văn an');
  });

  it('joins a word around a byte-order mark, splits at every other space, and repairs a mis-decoded no-break space', () => {
    expect(canonicalText('Nguy\uFEFFễn\u3000Văn\u2028An')).toBe('nguyễn văn an');
    // "à" is C3 A0 in UTF-8: read as Latin-1, its second byte is a no-break space.
    expect(canonicalText(`Ho${misdecodedUtf8('à', 'latin1')}ng An`)).toBe('hoàng an');
  });

  it('maps Đ look-alikes (eth, African D) to Đ and drops invisible characters', () => {
    expect(canonicalText('\u00D0ức')).toBe('đức');
    expect(canonicalText('\u0189ức')).toBe('đức');
    expect(canonicalText('Ph\u00ADương\u200B')).toBe('phương');
  });

  it('drops every invisible format mark, direction marks and isolates included', () => {
    for (const mark of ['\u200E', '\u200F', '\u202A', '\u202E', '\u2066', '\u2069', '\u061C', '\u2061']) {
      expect(canonicalText(`Nguy${mark}ễn Văn An`)).toBe('nguyễn văn an');
    }
  });

  it('normalizes deprecated combining tone marks', () => {
    expect(canonicalText('a\u0340')).toBe('à');
  });
});

describe('foldDiacritics', () => {
  it.each([
    ['nguyễn văn đức', 'nguyen van duc'],
    ['trần thị thuỷ', 'tran thi thuy'],
    ['ăâêôơư', 'aaeoou'],
    ['ầệự', 'aeu'],
  ])('%s → %s', (input, expected) => expect(foldDiacritics(input)).toBe(expected));

  it('folded tokens drop punctuation', () => {
    expect(foldedTokens('Bà Rịa – Vũng Tàu')).toEqual(['ba', 'ria', 'vung', 'tau']);
  });
});
