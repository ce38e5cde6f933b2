import { sipHash128, sipHashKey } from './siphash.js';
import { canonicalText, foldDiacritics, foldedTokens } from '../domain/text.js';
import { couldBe, nearWords, spellingAlternatives, splitJoinedWord } from '../domain/nameWords.js';
import { formatPartialDate, parsePartialDate, type PartialDate } from '../domain/dates.js';
import type { Citizen } from '../domain/citizen.js';

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
  const sipKey = sipHashKey(secret, 'idv/index-keys/siphash-2-4/v1');
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

/** The key of the name block a citizen is filed under (its posting: postings.ts). */
export function nameBlockKey(hash: KeyHasher, c: Pick<Citizen, 'fullName' | 'dateOfBirth'>): Buffer {
  return hash(recordBlockText(c.fullName, c.dateOfBirth), LOOKUP_KEY_BYTES);
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

/**
 * The claim's folded words, joined words split. A longer claim keeps its first words and
 * its last: a person is filed under the first and last words of the registered name, so
 * a name of nine words or more is still found when searched as registered.
 */
function claimWords(fullName: string, split = true): string[] {
  const words = split ? foldedTokens(fullName).flatMap(splitJoinedWord) : foldedTokens(fullName);
  return words.length <= MAX_QUERY_TOKENS ? words : [...words.slice(0, MAX_QUERY_TOKENS - 1), words[words.length - 1]];
}

type Pair = [string, string];

/** Each pair of the claim's words (surname and given name may be anywhere in it). */
function claimPairs(words: string[]): Pair[] {
  // Not deduplicated: a surname can also be the given name ("Vũ Tấn Vũ").
  const pairs: Pair[] = words.length === 1 ? [[words[0], words[0]]] : [];
  for (let i = 0; i < words.length; i++) for (let j = i + 1; j < words.length; j++) pairs.push([words[i], words[j]]);
  return pairs;
}

/** The same pairs with the words' other spellings (a confused initial, a typo). */
function respelledPairs(words: string[]): Pair[] {
  const spellings = words.map((w) => [w, ...spellingAlternatives(w)]);
  const pairs: Pair[] = [];
  if (words.length === 1) for (const a of spellings[0].slice(1)) pairs.push([a, a]);
  for (let i = 0; i < words.length; i++) {
    for (let j = i + 1; j < words.length; j++) {
      for (const a of spellings[i]) for (const b of spellings[j]) if (a !== words[i] || b !== words[j]) pairs.push([a, b]);
    }
  }
  return pairs;
}

/**
 * The distinct unordered pairs a lookup reaches with this many dates each: as many as its
 * keys allow, in the claim's order. The lookup (blockTexts) and the probing guard
 * (searchedPersons) both take them from here, so the guard counts what was looked up.
 */
function reachedPairs(pairs: Pair[], dates: number): Pair[] {
  const unique = new Map<string, Pair>();
  for (const pair of pairs) {
    const sorted: Pair = pair[0] <= pair[1] ? pair : [pair[1], pair[0]];
    unique.set(`${sorted[0]} ${sorted[1]}`, sorted);
  }
  return [...unique.values()].slice(0, Math.ceil(MAX_QUERY_KEYS / dates));
}

/**
 * The blocks of the people a person's own name is one slip from (their surname or their
 * given name another real one a slip away: "Linh" for "Ninh"), under the claimed date:
 * where whoever a claim that found this one person may have meant is filed.
 */
export function nearBlockTexts(fullName: string, dateOfBirth: string): string[] {
  const [surname, given] = surnameAndGiven(fullName);
  const pairs: Pair[] = [];
  for (const a of nearWords(surname)) if (couldBe('surname', a)) pairs.push([a, given]);
  for (const b of nearWords(given)) if (couldBe('given', b)) pairs.push([surname, b]);
  return blockTexts(pairs, dateOfBirth);
}

/**
 * The claim's first and last words (where a surname and a given name stand, in either
 * order) with one of them read as a real name one slip from it ("ninh" as "linh"): where
 * a person the claim may have mistyped into another real name is filed.
 */
function nearPairs(words: string[]): Pair[] {
  const [first, last] = [words[0], words[words.length - 1]];
  if (first === undefined) return [];
  const pairs: Pair[] = [];
  for (const a of nearWords(first)) pairs.push([a, last]);
  if (words.length > 1) for (const b of nearWords(last)) pairs.push([first, b]);
  return pairs;
}

/**
 * What a search reaches past the claim's own spelling: other spellings of its words (a
 * typo, a confusion), then near names; first of its words as written, then as split where
 * a word reads as two names run together ("hảy" is a slip of "hải", or "hà" and "y").
 */
function widerPairs(fullName: string): Pair[] {
  const asWritten = claimWords(fullName, false);
  const split = claimWords(fullName);
  return [...respelledPairs(asWritten), ...nearPairs(asWritten), ...respelledPairs(split), ...nearPairs(split)];
}

function blockTexts(pairs: Pair[], dateOfBirth: string): string[] {
  const date = parsePartialDate(dateOfBirth);
  if (!date) return [];
  const dates = candidateDates(date);
  return reachedPairs(pairs, dates.length).flatMap((pair) => dates.map((d) => nameBlockText(pair, d)));
}

/**
 * Every block a (name, date of birth) claim may be filed under: each pair of its words,
 * with each date it may be registered under.
 */
export function queryBlockTexts(fullName: string, dateOfBirth: string): string[] {
  return blockTexts(claimPairs(claimWords(fullName)), dateOfBirth);
}

/**
 * The blocks past the claim's own spelling, where a claim nobody agrees with looks next:
 * its words' other spellings (a typo, a confusion) and real names one slip from them.
 */
export function widerBlockTexts(fullName: string, dateOfBirth: string): string[] {
  return blockTexts(widerPairs(fullName), dateOfBirth);
}

/**
 * Whom a search that found nobody was about, whatever form the name was sent in: every
 * unordered pair of words that its lookups reached (its own spelling, the other
 * spellings and the near names) and that a person can be filed under, a surname with a given name. Joined
 * words, a swapped order, middle names moved or a doubled letter all reach the person's
 * own pair; a pair such as "Nguyễn Thị", which nobody is filed under ("Thị" is never a
 * given name), is left out, so that searches for many "Nguyễn Thị" people do not count as
 * guesses about one.
 */
export function searchedPersons(fullName: string, dateOfBirth: string): string[] {
  const date = parsePartialDate(dateOfBirth);
  const dates = date ? candidateDates(date).length : 1;
  // The claim's own words with their diacritics, by folded form (a joined or respelled word has none).
  const marked = new Map<string, string>();
  for (const word of canonicalText(fullName).split(' ')) marked.set(foldDiacritics(word), word);
  const fileable = (surname: string, given: string) => couldBe('surname', surname, marked.get(surname)) && couldBe('given', given, marked.get(given));
  const out = new Set<string>();
  const words = claimWords(fullName);
  for (const [a, b] of [...reachedPairs(claimPairs(words), dates), ...reachedPairs(widerPairs(fullName), dates)]) {
    if (fileable(a, b) || fileable(b, a)) out.add(`${a} ${b}`);
  }
  return [...out];
}
