import { createHmac } from 'node:crypto';
import { sipHash128 } from './siphash.js';
import { foldedTokens } from '../domain/text.js';
import { spellingAlternatives, splitJoinedWord } from '../domain/nameWords.js';
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

/** Family and given name, folded: what the index files a person under, middle names left out. */
export function surnameAndGiven(fullName: string): [string, string] {
  const tokens = foldedTokens(fullName);
  return [tokens[0] ?? '', tokens[tokens.length - 1] ?? ''];
}

export function recordBlockText(fullName: string, dateOfBirth: string): string {
  return nameBlockText(surnameAndGiven(fullName), dateOfBirth);
}

const MAX_QUERY_TOKENS = 8;

/** Dates under which a person with this claimed date may be registered. */
function candidateDates(claimed: PartialDate): string[] {
  const dates = new Set<string>([formatPartialDate(claimed)]);
  if (claimed.precision !== 'year') dates.add(formatPartialDate({ year: claimed.year, month: claimed.month, precision: 'month' }));
  dates.add(String(claimed.year));
  return [...dates];
}

// Enough for a six-word name with a typo in it; a claim of many unknown words stops here.
const MAX_QUERY_KEYS = 240;

function claimWords(fullName: string): string[] {
  return foldedTokens(fullName).flatMap(splitJoinedWord).slice(0, MAX_QUERY_TOKENS);
}

function blockTexts(pairs: [string, string][], dateOfBirth: string): string[] {
  const date = parsePartialDate(dateOfBirth);
  if (!date) return [];
  const dates = candidateDates(date);
  return [...new Set(pairs.flatMap((pair) => dates.map((d) => nameBlockText(pair, d))))].slice(0, MAX_QUERY_KEYS);
}

/**
 * Every block a (name, date of birth) claim may be filed under: each pair of its words
 * (surname and given name may be anywhere), with each date it may be registered under.
 */
export function queryBlockTexts(fullName: string, dateOfBirth: string): string[] {
  // Not deduplicated: a surname can also be the given name ("Vũ Tấn Vũ").
  const words = claimWords(fullName);
  const pairs: [string, string][] = words.length === 1 ? [[words[0], words[0]]] : [];
  for (let i = 0; i < words.length; i++) for (let j = i + 1; j < words.length; j++) pairs.push([words[i], words[j]]);
  return blockTexts(pairs, dateOfBirth);
}

/**
 * The blocks of the same pairs with the words' other spellings (a confused initial, a
 * typo): where a claim nobody agrees with under its own spelling looks next.
 */
export function respelledBlockTexts(fullName: string, dateOfBirth: string): string[] {
  const words = claimWords(fullName);
  const spellings = words.map((w) => [w, ...spellingAlternatives(w)]);
  const pairs: [string, string][] = [];
  if (words.length === 1) for (const a of spellings[0].slice(1)) pairs.push([a, a]);
  for (let i = 0; i < words.length; i++) {
    for (let j = i + 1; j < words.length; j++) {
      for (const a of spellings[i]) for (const b of spellings[j]) if (a !== words[i] || b !== words[j]) pairs.push([a, b]);
    }
  }
  return blockTexts(pairs, dateOfBirth);
}
