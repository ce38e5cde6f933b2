import { describe, expect, it } from 'vitest';
import { coarserThanClaimed, compareDates, parsePartialDate, type PartialDate } from '../../src/domain/dates.js';
import { cardExpiry, cardState } from '../../src/domain/card.js';

const d = (s: string) => parsePartialDate(s)!;

describe('parsePartialDate', () => {
  it.each(['1990-05-17', '1990-05', '1950', '2000-02-29', '2024-02-29', '1990-12-31'])('accepts %s', (s) => expect(parsePartialDate(s)).toBeDefined());
  it.each(['1990-5-17', '1990-13', '1990-02-30', '1899', '1900-02-29', '90', '1990-05-17T00:00', '', '1990/05/17', '1990-05/17', '19a0', '1990-0a-17', '1990-05-1x', '１９９０', '2100-02-29', '1990-04-31', '1990-00', '1990-05-00', ' 1990'])('rejects %s', (s) => {
    expect(parsePartialDate(s)).toBeUndefined();
  });
});

describe('compareDates', () => {
  it.each([
    ['1950', '1950-03-05', true, 'year'],
    ['1950', '1951-03-05', false, 'year'],
    ['1960-09', '1960-09-30', true, 'month'],
    ['1960-09', '1960-10-01', false, 'month'],
    ['1990-05-17', '1990-05-17', true, 'day'],
    ['1990-05-17', '1990-05-18', false, 'day'],
    ['1990-05-17', '1990', true, 'year'],
  ])('registered %s, claimed %s → %s at %s', (registered, claimed, match, precision) => {
    expect(compareDates(d(registered), d(claimed))).toEqual({ match, precision });
  });

  it.each([
    ['1990-05-07', '1990-07-05', true],
    ['1990-11-02', '1990-02-11', true],
    ['1990-05-07', '1990-07-06', false],
    ['1990-05-07', '1991-07-05', false],
    ['1990-05', '1990-07-05', false],
  ])('registered %s, claimed %s: day and month swapped is %s, and never a match', (registered, claimed, transposed) => {
    const result = compareDates(d(registered), d(claimed));
    expect(result.match).toBe(false);
    expect(result.transposed === true).toBe(transposed);
  });

  it.each([
    ['1950', '1950-03-05', true],
    ['1960-09', '1960-09-30', true],
    ['1960-09', '1960-09', false],
    ['1990-05-17', '1990', false],
    ['1990-05-17', '1990-05-17', false],
  ])('registered %s, claimed %s: the register is coarser than the claim: %s', (registered, claimed, coarser) => {
    expect(coarserThanClaimed(compareDates(d(registered), d(claimed)), d(claimed))).toBe(coarser);
  });
});

describe('card expiry (age rule)', () => {
  const today: PartialDate = d('2026-11-26');
  it('a 2014-law card issued at 17 expires at 25', () => {
    expect(cardExpiry(d('1999-03-01'), d('2016-04-01'))).toEqual(d('2024-03-01'));
    expect(cardState(d('1999-03-01'), d('2016-04-01'), false, today)).toBe('expired');
  });
  it('a card issued within 2 years before a change age lasts to the next one', () => {
    expect(cardExpiry(d('1990-05-17'), d('2013-06-01'))).toEqual(d('2030-05-17'));
  });
  it('a card issued at 58 or later never expires', () => {
    expect(cardExpiry(d('1960-01-01'), d('2018-06-01'))).toBeUndefined();
  });
  it('the 2023 law adds age 14', () => {
    expect(cardExpiry(d('2015-01-01'), d('2024-08-01'))).toEqual(d('2029-01-01'));
  });
  it('revoked wins over valid', () => {
    expect(cardState(d('1990-05-17'), d('2021-04-01'), true, today)).toBe('revoked');
    expect(cardState(d('1990-05-17'), d('2021-04-01'), false, today)).toBe('valid');
  });
});
