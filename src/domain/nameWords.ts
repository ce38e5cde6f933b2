import { readTsv } from '../packageFiles.js';
import { canonicalText, foldDiacritics } from './text.js';
import { editDistance } from './similarity.js';
import { memo } from './memo.js';

/**
 * The name tables in src/domain/data: surnames, middle names and given names with
 * their frequencies. The generator draws from them, the record dictionary codes their
 * words, and the name matcher knows from them which words are real names.
 */
const DATA = 'src/domain/data/';
export const SURNAME_ROWS = readTsv(DATA + 'vn-names-surnames.tsv');
export const MIDDLE_ROWS = readTsv(DATA + 'vn-names-middle.tsv');
export const GIVEN_ROWS = readTsv(DATA + 'vn-names-given.tsv');

export type NameRole = 'surname' | 'middle' | 'given';

export interface KnownWords {
  /** Canonical forms, with diacritics ("ân"). */
  marked: ReadonlySet<string>;
  /** Folded forms, without ("an"). */
  plain: ReadonlySet<string>;
}

function knownWords(words: string[]): KnownWords {
  const marked = new Set(words.map(canonicalText));
  return { marked, plain: new Set([...marked].map(foldDiacritics)) };
}

/**
 * Real words per place in a name. A middle name is often a given-name word ("Minh",
 * "Anh"), so middles count both lists.
 */
export const KNOWN_WORDS: Record<NameRole, KnownWords> = {
  surname: knownWords(SURNAME_ROWS.map((r) => r.surname)),
  middle: knownWords([...MIDDLE_ROWS.map((r) => r.middle), ...GIVEN_ROWS.map((r) => r.given)]),
  given: knownWords(GIVEN_ROWS.map((r) => r.given)),
};

const ANY_PLAIN = new Set([...KNOWN_WORDS.surname.plain, ...KNOWN_WORDS.middle.plain, ...KNOWN_WORDS.given.plain]);

const ANY_MARKED = new Set([...KNOWN_WORDS.surname.marked, ...KNOWN_WORDS.middle.marked, ...KNOWN_WORDS.given.marked]);

/**
 * Whether a word of a claim can be a person's surname, or given name: a word of that
 * table, or of no table at all (a rare name the tables do not hold). Read with its
 * diacritics when the claim has them ("Thị" is a middle name, never a given name, though
 * "Thi" is), folded otherwise.
 */
export function couldBe(role: 'surname' | 'given', folded: string, marked?: string): boolean {
  if (marked !== undefined && ANY_MARKED.has(marked)) return KNOWN_WORDS[role].marked.has(marked);
  return KNOWN_WORDS[role].plain.has(folded) || !ANY_PLAIN.has(folded);
}

/**
 * A folded word as two name words with the space between them lost ("vanan" → "van",
 * "an"): the words of every way to split it, or the word itself when it is a name word
 * or splits no known way. "ngochung" gives "ngo", "chung", "ngoc", "hung".
 */
export function splitJoinedWord(folded: string): string[] {
  if (folded.length < 3 || ANY_PLAIN.has(folded)) return [folded];
  const parts: string[] = [];
  for (let at = 1; at < folded.length; at++) {
    const [a, b] = [folded.slice(0, at), folded.slice(at)];
    if (ANY_PLAIN.has(a) && ANY_PLAIN.has(b)) parts.push(a, b);
  }
  return parts.length ? parts : [folded];
}

/**
 * The word with the sounds Vietnamese writers commonly confuse made equal: initial
 * d/gi/r, tr/ch, s/x and l/n (northern and southern pronunciations), and i/y.
 */
export function confusionKey(text: string): string {
  return text
    .normalize('NFD')
    .replace(/^gi(?=[aeouy])/, 'd')
    .replace(/^(?:gi|r)/, (m) => (m === 'gi' ? 'di' : 'd'))
    .replace(/^tr/, 'ch')
    .replace(/^s/, 'x')
    .replace(/^l/, 'n')
    .replace(/y/g, 'i');
}

const PLAIN_WORDS = [...ANY_PLAIN];
const PLAIN_WORDS_BY_CONFUSION = new Map<string, string[]>();
for (const w of PLAIN_WORDS) {
  const key = confusionKey(w);
  PLAIN_WORDS_BY_CONFUSION.set(key, [...(PLAIN_WORDS_BY_CONFUSION.get(key) ?? []), w]);
}

/**
 * The real name words a claimed folded word may have been meant as: those that sound the
 * same under the common confusions (same `confusionKey`), and, when the word is no name
 * at all, the names one edit away (a typo). The search looks these up too.
 */
export function spellingAlternatives(folded: string): string[] {
  return ANY_PLAIN.has(folded) ? sameSounding(folded) : nearWords(folded);
}

/** The real name words that sound the same as a folded word under the common confusions, but the word itself. */
function sameSounding(folded: string): string[] {
  return (PLAIN_WORDS_BY_CONFUSION.get(confusionKey(folded)) ?? []).filter((w) => w !== folded);
}

// Words taken apart once each; bounded, as claims may hold anything.
const MAX_CACHED_NEAR = 50_000;

/**
 * The real name words one slip from a folded word, whether or not it is a name itself:
 * the same under the common confusions, or one edit away. "ninh" gives "linh", "minh",
 * "vinh"... A claim may be another real name mistyped; the search looks these up so that
 * the person it may have meant is named beside the one it spells (see rankCandidates).
 */
export const nearWords = memo((folded: string): string[] => {
  const found = new Set(sameSounding(folded));
  for (const w of PLAIN_WORDS) if (Math.abs(w.length - folded.length) <= 1 && editDistance(w, folded) === 1) found.add(w);
  return [...found];
}, MAX_CACHED_NEAR);
