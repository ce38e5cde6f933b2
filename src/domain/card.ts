import { ageOn, dateKey, type PartialDate } from './dates.js';

export type CardState = 'valid' | 'expired' | 'revoked';

/** Luật Căn cước 2023 (from 2024-07-01) adds age 14; the 2014 law changed cards at 25, 40 and 60. */
const LAW_2023_FROM = 20240701;
const CHANGE_AGES_2023 = [14, 25, 40, 60];
const CHANGE_AGES_2014 = [25, 40, 60];

/**
 * The day a card stops being valid, or undefined for a card valid for life.
 * A card issued within 2 years before a change age is valid until the next one,
 * so a card issued at 58 or later never expires.
 */
export function cardExpiry(birth: PartialDate, issued: PartialDate): PartialDate | undefined {
  const ages = dateKey(issued) >= LAW_2023_FROM ? CHANGE_AGES_2023 : CHANGE_AGES_2014;
  const age = ageOn(birth, issued);
  const next = ages.find((changeAge) => changeAge - age > 2);
  if (next === undefined) return undefined;
  return { year: birth.year + next, month: birth.month ?? 1, day: birth.day ?? 1, precision: 'day' };
}

export function cardState(
  birth: PartialDate,
  issued: PartialDate | undefined,
  revoked: boolean,
  today: PartialDate,
): CardState {
  if (revoked) return 'revoked';
  if (!issued) return 'valid';
  const expiry = cardExpiry(birth, issued);
  return expiry && dateKey(today) >= dateKey(expiry) ? 'expired' : 'valid';
}
