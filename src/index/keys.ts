import { createHmac } from 'node:crypto';
import { sipHash128 } from './siphash.js';
import { foldedTokens } from '../domain/text.js';
import { splitJoinedWord } from '../domain/nameWords.js';
import { formatPartialDate, parsePartialDate, type PartialDate } from '../domain/dates.js';

/**
 * Index keys are keyed hashes of identifiers, never the identifiers themselves: the
 * 128-bit SipHash-2-4 tag under a key derived from the index secret, truncated; a
 * domain prefix keeps the kinds of key apart.
 * - ID-number keys: 12 bytes. A collision among 10^8 citizens has a chance of about
 *   10^8² / 2^97 ≈ 10^-13, and would show at build time as a rejected duplicate.
 * - Lookup keys (name block, legacy number): 8 bytes. A collision only merges two
 *   blocks, whose people are then told apart by matching, so it costs nothing but a
 *   comparison; 8 bytes save ~8 bytes per citizen per lookup.
 */
export const ID_KEY_BYTES = 12;
export const LOOKUP_KEY_BYTES = 8;

export type KeyHasher = (domainAndValue: string, bytes: number) => Buffer;

// Longest text hashed without allocating: 1,000 UTF-16 units are at most 3,000 UTF-8 bytes.
const SCRATCH_CHARS = 1000;

export function keyHasher(secret: Buffer): KeyHasher {
  const sipKey = createHmac('sha256', secret).update('idv/index-keys/siphash-2-4/v1').digest().subarray(0, 16);
  const scratch = Buffer.allocUnsafe(3 * SCRATCH_CHARS);
  const tag = Buffer.allocUnsafe(16);
  return (text, bytes) => {
    const data = text.length <= SCRATCH_CHARS ? scratch : Buffer.from(text);
    const length = data === scratch ? scratch.write(text, 'utf8') : data.length;
    sipHash128(sipKey, data, length, tag);
    return Buffer.from(tag.subarray(0, bytes));
  };
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

const MAX_QUERY_TOKENS = 8;

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
  const tokens = foldedTokens(fullName).flatMap(splitJoinedWord).slice(0, MAX_QUERY_TOKENS);
  const pairs: [string, string][] = tokens.length === 1 ? [[tokens[0], tokens[0]]] : [];
  for (let i = 0; i < tokens.length; i++) for (let j = i + 1; j < tokens.length; j++) pairs.push([tokens[i], tokens[j]]);
  const dates = candidateDates(date);
  return [...new Set(pairs.flatMap((pair) => dates.map((d) => nameBlockText(pair, d))))];
}
