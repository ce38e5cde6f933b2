import { createHmac } from 'node:crypto';
import { foldedTokens } from '../domain/text.js';
import { formatPartialDate, parsePartialDate, type PartialDate } from '../domain/dates.js';

/**
 * Index keys are keyed hashes (HMAC-SHA256, first 16 bytes) of identifiers, never the
 * identifiers themselves. 16 bytes make a collision among 10^8 keys negligible
 * (~10^-23). A domain prefix keeps the three kinds of key apart.
 */
export const KEY_BYTES = 16;

export type KeyHasher = (domainAndValue: string) => Buffer;

export function keyHasher(secret: Buffer): KeyHasher {
  return (text) => createHmac('sha256', secret).update(text).digest().subarray(0, KEY_BYTES);
}

export const idKeyText = (idNumber: string) => `i:${idNumber}`;
export const legacyKeyText = (legacyId: string) => `l:${legacyId}`;

/**
 * The blocking key of the name/date-of-birth lookup: surname and given name, folded
 * (no diacritics, case or tone placement) and unordered, with the date as registered.
 * Unordered and middle-free, so a claim with a dropped, extra or swapped name still
 * reaches the block; the full date keeps even "Nguyễn Thị Hương" blocks small.
 */
export function nameBlockText(pair: [string, string], date: string): string {
  const [a, b] = pair[0] <= pair[1] ? pair : [pair[1], pair[0]];
  return `n:${a} ${b}|${date}`;
}

export function recordBlockText(fullName: string, dateOfBirth: string): string {
  const tokens = foldedTokens(fullName);
  const pair: [string, string] = [tokens[0] ?? '', tokens[tokens.length - 1] ?? ''];
  return nameBlockText(pair, dateOfBirth);
}

const MAX_QUERY_TOKENS = 6;

/** Dates under which a person with this claimed date may be registered. */
function candidateDates(claimed: PartialDate): string[] {
  const dates = new Set<string>([formatPartialDate(claimed)]);
  if (claimed.precision !== 'year') dates.add(formatPartialDate({ year: claimed.year, month: claimed.month, precision: 'month' }));
  dates.add(String(claimed.year));
  return [...dates];
}

/** Every block a (name, date of birth) claim may be filed under. */
export function queryBlockTexts(fullName: string, dateOfBirth: string): string[] {
  const date = parsePartialDate(dateOfBirth);
  if (!date) return [];
  // Not deduplicated: a surname can also be the given name ("Vũ Tấn Vũ").
  const tokens = foldedTokens(fullName).slice(0, MAX_QUERY_TOKENS);
  const pairs: [string, string][] = tokens.length === 1 ? [[tokens[0], tokens[0]]] : [];
  for (let i = 0; i < tokens.length; i++) for (let j = i + 1; j < tokens.length; j++) pairs.push([tokens[i], tokens[j]]);
  const dates = candidateDates(date);
  return [...new Set(pairs.flatMap((pair) => dates.map((d) => nameBlockText(pair, d))))];
}
