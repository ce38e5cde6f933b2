import { canonicalText, foldDiacritics } from './text.js';
import { editDistance } from './similarity.js';
import { KNOWN_WORDS, type NameRole } from './nameWords.js';

export type NameLevel = 'exact' | 'normalized' | 'fuzzy' | 'none';

export interface NameMatch {
  match: boolean;
  level: NameLevel;
  score: number;
}

/** The default `options.nameThreshold`: see bench/MATCHING.md for how it was chosen. */
export const DEFAULT_NAME_THRESHOLD = 85;

/*
 * A fuzzy score is 100 minus penalties. A word that differs by a slip (a typo, a
 * Vietnamese spelling confusion) costs a little; a word that is another real name costs
 * its part's weight, which alone brings the score under the default threshold: "Ân" is
 * not "An", "Hưng" is not "Hùng", and "Nguyễn Hữu An" is not "Nguyễn Văn An".
 */
const DIFFERENT: Record<NameRole, number> = { surname: 30, middle: 20, given: 50 };
const SLIP: Record<NameRole, number> = { surname: 8, middle: 5, given: 8 };
/** A middle name on one side only: often dropped on forms, or added. */
const UNPAIRED_MIDDLE = 6;
/** Given name first, or the surname last. */
const REORDERED = 3;

/**
 * How a claim is read. A claim written with diacritics is read with them: its "An" is
 * not "Ân". A claim without any (typed on a plain keyboard, or stripped by a system)
 * is compared with the registered name stripped the same way.
 */
interface Reading {
  marked: boolean;
  words: string[];
}

/** A claimed name normalized once, for comparison with many registered names (demographic search). */
export interface PreparedName {
  raw: string;
  canonical: string;
  folded: string;
  reading: Reading;
  /** Spelling-confusion keys of the reading's words. */
  keys: string[];
}

const MAX_TOKENS = 8;
const SPACES = / /g;
const WORD_SEPARATORS = /[^\p{L}\p{N}]+/u;
const words = (text: string) => text.split(WORD_SEPARATORS).filter(Boolean).slice(0, MAX_TOKENS);

/**
 * The word with the sounds Vietnamese writers commonly confuse made equal: initial
 * d/gi/r, tr/ch, s/x and l/n (southern and northern pronunciations), and i/y.
 */
export function confusionKey(word: string): string {
  return word
    .normalize('NFD')
    .replace(/^gi(?=[aeouy])/, 'd')
    .replace(/^(?:gi|r)/, (m) => (m === 'gi' ? 'di' : 'd'))
    .replace(/^tr/, 'ch')
    .replace(/^s/, 'x')
    .replace(/^l/, 'n')
    .replace(/y/g, 'i');
}

/** i and y are written either way in many syllables ("Vy"/"Vi", "Lý"/"Lí"): one name. */
const iyKey = (word: string) => word.normalize('NFD').replace(/y/g, 'i');

export function prepareName(claimed: string): PreparedName {
  const canonical = canonicalText(claimed);
  const folded = foldDiacritics(canonical);
  const marked = folded !== canonical;
  const reading = { marked, words: words(marked ? canonical : folded) };
  return { raw: claimed, canonical, folded, reading, keys: reading.words.map(confusionKey) };
}

function isKnown(word: string, role: NameRole, marked: boolean): boolean {
  const known = KNOWN_WORDS[role];
  return (marked ? known.marked : known.plain).has(word);
}

/** What it costs to read claim word `c` (confusion key `cKey`) as registered word `r`. */
function wordPenalty(r: string, c: string, cKey: string, role: NameRole, marked: boolean): number {
  if (r === c) return 0;
  if (iyKey(r) === iyKey(c)) return SLIP[role];
  if (isKnown(c, role, marked)) return DIFFERENT[role];
  if (editDistance(r, c) === 1 || confusionKey(r) === cKey) return SLIP[role];
  return DIFFERENT[role];
}

/**
 * Middle names paired cheapest first. What is left over on both sides is a different
 * middle name; what is left on one side only was dropped or added.
 */
function middlePenalty(record: string[], claim: PreparedName, rest: number[]): number {
  const middles = record.length - 2;
  if (middles === 0 && rest.length === 0) return 0;
  const { words: claimWords, marked } = claim.reading;
  const pairs: [number, number, number][] = [];
  for (let r = 1; r <= middles; r++) {
    for (const c of rest) pairs.push([wordPenalty(record[r], claimWords[c], claim.keys[c], 'middle', marked), r, c]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const usedRecord = new Set<number>();
  const usedClaim = new Set<number>();
  let penalty = 0;
  for (const [cost, r, c] of pairs) {
    if (cost >= DIFFERENT.middle || usedRecord.has(r) || usedClaim.has(c)) continue;
    usedRecord.add(r);
    usedClaim.add(c);
    penalty += cost;
  }
  const leftRecord = middles - usedRecord.size;
  const leftClaim = rest.length - usedClaim.size;
  const contradicting = Math.min(leftRecord, leftClaim);
  return penalty + contradicting * DIFFERENT.middle + (leftRecord + leftClaim - 2 * contradicting) * UNPAIRED_MIDDLE;
}

/**
 * Score of a claimed name against the registered words (read the same way as the
 * claim). The surname and given name may sit anywhere in the claim (swapped order costs
 * a little). At most 99: 100 is kept for names equal at the `exact` or `normalized` level.
 */
function fuzzyScore(record: string[], claim: PreparedName): number {
  const { words: claimWords, marked } = claim.reading;
  if (record.length === 0 || claimWords.length === 0) return 0;
  const given = record.length - 1;
  const penalty = (role: NameRole, r: number, c: number) => wordPenalty(record[r], claimWords[c], claim.keys[c], role, marked);
  if (record.length === 1 || claimWords.length === 1) {
    // One word on a side: read it as the given name; the rest is missing.
    return clampScore(100 - penalty('given', given, claimWords.length - 1) - DIFFERENT.surname);
  }
  const indexes = claimWords.map((_, i) => i);
  let best = Infinity;
  for (let s = 0; s < claimWords.length; s++) {
    for (let g = 0; g < claimWords.length; g++) {
      if (s === g) continue;
      const reordered = s !== 0 || g !== claimWords.length - 1;
      const cost =
        penalty('surname', 0, s) +
        penalty('given', given, g) +
        (reordered ? REORDERED : 0) +
        middlePenalty(record, claim, indexes.filter((i) => i !== s && i !== g));
      if (cost < best) best = cost;
    }
  }
  return clampScore(100 - best);
}

const clampScore = (score: number) => Math.min(99, Math.max(0, Math.round(score)));

/** Compares a claimed full name with the registered one and names the level at which they agree. */
export function matchName(registered: string, claimed: string | PreparedName, threshold = DEFAULT_NAME_THRESHOLD): NameMatch {
  const raw = typeof claimed === 'string' ? claimed : claimed.raw;
  // The common case, a name sent exactly as registered, needs no normalization.
  if (registered === raw) return { match: true, level: 'exact', score: 100 };
  const claim = typeof claimed === 'string' ? prepareName(claimed) : claimed;
  const canonRegistered = canonicalText(registered);
  if (canonRegistered === claim.canonical) return { match: true, level: 'exact', score: 100 };
  const foldRegistered = claim.reading.marked ? '' : foldDiacritics(canonRegistered);
  if (foldRegistered === claim.folded) return { match: true, level: 'normalized', score: 100 };
  // A space lost between two words ("Văn An" typed "VănAn") joins them, and nothing else.
  const spaceless = (text: string) => text.replace(SPACES, '');
  if (spaceless(claim.reading.marked ? canonRegistered : foldRegistered) === spaceless(claim.reading.marked ? claim.canonical : claim.folded)) {
    return { match: true, level: 'normalized', score: 100 };
  }
  const score = fuzzyScore(words(claim.reading.marked ? canonRegistered : foldRegistered), claim);
  const match = score >= threshold;
  return { match, level: match ? 'fuzzy' : 'none', score };
}
