import { canonicalText, foldDiacritics } from './text.js';
import { editDistance } from './similarity.js';
import { memo } from './memo.js';
import { confusionKey, KNOWN_WORDS, type NameRole } from './nameWords.js';

export type NameLevel = 'exact' | 'normalized' | 'fuzzy' | 'none';

export interface NameMatch {
  match: boolean;
  level: NameLevel;
  score: number;
}

/** The default `options.nameThreshold`: see bench/MATCHING.md for how it was chosen. */
export const DEFAULT_NAME_THRESHOLD = 85;
/**
 * The lowest `options.nameThreshold` a client may ask for unless the operator sets another
 * (`minNameThreshold`): below it, answers to guessed names would tell how close a guess is.
 */
export const MIN_NAME_THRESHOLD = 80;

/*
 * A fuzzy score is 100 minus penalties. A word that differs by a slip (a typo, a
 * Vietnamese spelling confusion) costs a little; a word that is another real name costs
 * its part's weight, which alone brings the score under the default threshold: "Ân" is
 * not "An", "Hưng" is not "Hùng", and "Nguyễn Hữu An" is not "Nguyễn Văn An".
 */
const DIFFERENT: Record<NameRole, number> = { surname: 30, middle: 20, given: 50 };
const SLIP: Record<NameRole, number> = { surname: 8, middle: 5, given: 8 };
/** The most a near reading adds to a score: one word read as a slip rather than another name. */
export const NEAR_GAIN = Math.max(...(['surname', 'middle', 'given'] as const).map((role) => DIFFERENT[role] - SLIP[role]));
/** A middle name on one side only: often dropped on forms, or added. */
const UNPAIRED_MIDDLE = 6;
/** Given name first, or the surname last. */
const REORDERED = 3;

/**
 * How a claimed word that is itself a real name is read against another: `strict` (every
 * answer but one) reads it as that other name ("Ân" is not "An"); `near` reads it as a
 * slip like any other, to find whom a claim may have mistyped (a search's near names).
 */
type Reading = 'strict' | 'near';

/** A word of a name in the forms the comparison needs. */
interface Word {
  text: string;
  /** Without its tone mark (shape marks kept): "hoà" → "hoa", "hưng" → "hưng". */
  base: string;
  /** The tone mark, or "" for none (or a word read without diacritics). */
  tone: string;
  /** The base with y written i. */
  iy: string;
  /** The base with the spelling confusions made equal. */
  confusion: string;
}

const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/g;

function makeWord(text: string): Word {
  const nfd = text.normalize('NFD');
  const base = nfd.replace(TONE_MARKS, '').normalize('NFC');
  return { text, base, tone: nfd.match(TONE_MARKS)?.[0] ?? '', iy: base.replace(/y/g, 'i'), confusion: confusionKey(base) };
}

// Names are made of a few thousand words: each is taken apart once.
const word = memo(makeWord, 50_000);

/**
 * A claimed name normalized once, for comparison with many registered names (demographic
 * search). A claim written with diacritics (`marked`) is read with them: its "An" is not
 * "Ân". A claim without any (a plain keyboard, a system that strips them) is compared
 * with the registered name stripped the same way; `words` are in that reading.
 */
export interface PreparedName {
  raw: string;
  canonical: string;
  marked: boolean;
  words: Word[];
  /**
   * What reading a registered word as a claimed word costs, kept: a search meets the same
   * words in name after name. One map per reading, role and claimed word, by registered word.
   */
  penalties: Map<string, number>[];
}

const MAX_TOKENS = 8;
const WORD_SEPARATORS = /[^\p{L}\p{N}]+/u;
const splitWords = (text: string) => text.split(WORD_SEPARATORS).filter(Boolean).slice(0, MAX_TOKENS);

export function prepareName(claimed: string): PreparedName {
  const canonical = canonicalText(claimed);
  const folded = foldDiacritics(canonical);
  const marked = folded !== canonical;
  return { raw: claimed, canonical, marked, words: splitWords(marked ? canonical : folded).map(word), penalties: [] };
}

function isKnown(text: string, role: NameRole, marked: boolean): boolean {
  const known = KNOWN_WORDS[role];
  return (marked ? known.marked : known.plain).has(text);
}

/**
 * What it costs to read claimed word `c` as registered word `r`. A slip is one letter
 * or tone off, or a spelling confusion, into a word that is no other real name; i/y
 * spellings are one name. A confusion of two letters for two ("Chung" for "Trung",
 * "Dang" for "Giang") is a slip even into a real name, as it is no typing accident;
 * one letter or mark into another real name ("Ân", "Anh" for "An"; "Lam" for "Nam") is
 * that other name.
 */
function wordPenalty(r: Word, c: Word, role: NameRole, marked: boolean, reading: Reading): number {
  if (r.text === c.text) return 0;
  if (r.tone === c.tone && r.iy === c.iy) return SLIP[role];
  if (reading === 'strict' && isKnown(c.text, role, marked)) {
    const twoForTwo = r.tone === c.tone && r.confusion === c.confusion && editDistance(r.base, c.base) >= 2;
    return twoForTwo ? SLIP[role] : DIFFERENT[role];
  }
  // A word typed without its tone mark ("Hung" among marked words) has lost it, not changed it.
  const toneClash = r.tone !== '' && c.tone !== '' && r.tone !== c.tone;
  if (editDistance(r.base, c.base) + (toneClash ? 1 : 0) <= 1) return SLIP[role];
  return !toneClash && r.confusion === c.confusion ? SLIP[role] : DIFFERENT[role];
}

const ROLE_INDEX: Record<NameRole, number> = { surname: 0, middle: 1, given: 2 };

/** wordPenalty of registered word `r` read as claimed word `c` (an index into the claim), once per claim. */
function penaltyOf(claim: PreparedName, r: Word, c: number, role: NameRole, reading: Reading): number {
  const slot = ((reading === 'near' ? 3 : 0) + ROLE_INDEX[role]) * MAX_TOKENS + c;
  const known = (claim.penalties[slot] ??= new Map());
  let penalty = known.get(r.text);
  if (penalty === undefined) known.set(r.text, (penalty = wordPenalty(r, claim.words[c], role, claim.marked, reading)));
  return penalty;
}

/** What pairing registered middle name r with claimed word c costs, at r * MAX_TOKENS + c: reused by every comparison. */
const PAIR_COSTS = new Uint8Array(MAX_TOKENS * MAX_TOKENS);

/**
 * Middle names (the claim's words but `s` and `g`, its surname and given name) paired
 * cheapest first. What is left over on both sides is a different middle name; what is
 * left on one side only was dropped or added.
 */
function middlePenalty(record: Word[], claim: PreparedName, s: number, g: number, reading: Reading): number {
  const middles = record.length - 2;
  const claimed = claim.words.length;
  const rest = claimed - 2;
  if (middles === 0 && rest === 0) return 0;
  for (let r = 1; r <= middles; r++) {
    for (let c = 0; c < claimed; c++) if (c !== s && c !== g) PAIR_COSTS[r * MAX_TOKENS + c] = penaltyOf(claim, record[r], c, 'middle', reading);
  }
  // A pair costs nothing, a slip, or a different name (never paired): the free pairs first,
  // then the slips, each in the order of the record's words and then the claim's.
  let usedRecord = 0;
  let usedClaim = 0;
  let paired = 0;
  let penalty = 0;
  for (let pass = 0; pass < 2; pass++) {
    const cost = pass === 0 ? 0 : SLIP.middle;
    for (let r = 1; r <= middles; r++) {
      for (let c = 0; c < claimed; c++) {
        if (c === s || c === g || PAIR_COSTS[r * MAX_TOKENS + c] !== cost || usedRecord & (1 << r) || usedClaim & (1 << c)) continue;
        usedRecord |= 1 << r;
        usedClaim |= 1 << c;
        paired++;
        penalty += cost;
      }
    }
  }
  const leftRecord = middles - paired;
  const leftClaim = rest - paired;
  const contradicting = Math.min(leftRecord, leftClaim);
  return penalty + contradicting * DIFFERENT.middle + (leftRecord + leftClaim - 2 * contradicting) * UNPAIRED_MIDDLE;
}

/**
 * Score of a claimed name against the registered words (read the same way as the
 * claim). The surname and given name may sit anywhere in the claim (swapped order costs
 * a little, and is only assumed for words written right). At most 99: 100 is kept for
 * names equal at the `exact` or `normalized` level.
 */
function fuzzyScore(record: Word[], claim: PreparedName, reading: Reading = 'strict'): number {
  const claimed = claim.words;
  if (record.length === 0 || claimed.length === 0) return 0;
  const given = record.length - 1;
  const penalty = (role: NameRole, r: number, c: number) => penaltyOf(claim, record[r], c, role, reading);
  if (record.length === 1 || claimed.length === 1) {
    // One word on a side: read it as the given name; the rest is missing.
    return clampScore(100 - penalty('given', given, claimed.length - 1) - DIFFERENT.surname);
  }
  let best = Infinity;
  for (let s = 0; s < claimed.length; s++) {
    for (let g = 0; g < claimed.length; g++) {
      if (s === g) continue;
      const reordered = s !== 0 || g !== claimed.length - 1;
      const ends = penalty('surname', 0, s) + penalty('given', given, g);
      if (reordered && ends > 0) continue;
      const cost = ends + (reordered ? REORDERED : 0) + middlePenalty(record, claim, s, g, reading);
      if (cost < best) best = cost;
    }
  }
  return clampScore(100 - best);
}

/**
 * Whether a registered name is within the threshold of a claim when a claimed word that
 * is another real name is read as a slip of the registered one ("Ninh" for "Linh", "An"
 * for "Ân"): the person the claim may have mistyped. Asked of names matchName refused.
 */
export function isNearName(registered: string, claim: PreparedName, threshold = DEFAULT_NAME_THRESHOLD): boolean {
  return fuzzyScore(wordsAsClaimed(registeredName(registered), claim), claim, 'near') >= threshold;
}

/** A registered name taken apart: its canonical form, and its words read with and without diacritics. */
interface RegisteredName {
  canonical: string;
  marked: Word[];
  plain: Word[];
}

// A search compares the same registered names under a day, its month and its year, and
// common names come back search after search: each is taken apart once.
const registeredName = memo((registered: string): RegisteredName => {
  const canonical = canonicalText(registered);
  return { canonical, marked: splitWords(canonical).map(word), plain: splitWords(foldDiacritics(canonical)).map(word) };
}, 100_000);

/** A registered name's words, read as the claim is: with their diacritics only if it has any. */
const wordsAsClaimed = (name: RegisteredName, claim: PreparedName) => (claim.marked ? name.marked : name.plain);

const clampScore = (score: number) => Math.min(99, Math.max(0, Math.round(score)));

/**
 * True when the claim is the registered words in order with some spaces lost between
 * them ("Nguyễn VănAn"). Each joined claim word is cut at the registered words' lengths
 * and the pieces compared as words, so tone placement still does not matter.
 */
function joinedWordsMatch(record: Word[], claimed: Word[]): boolean {
  if (claimed.length >= record.length) return false;
  let r = 0;
  for (const { text: c } of claimed) {
    let at = 0;
    while (at < c.length && r < record.length) {
      const piece = c.slice(at, at + record[r].text.length);
      if (canonicalText(piece) !== record[r].text) return false;
      at += record[r].text.length;
      r++;
    }
    if (at !== c.length) return false;
  }
  return r === record.length;
}

/** Compares a claimed full name with the registered one and names the level at which they agree. */
export function matchName(registered: string, claimed: string | PreparedName, threshold = DEFAULT_NAME_THRESHOLD): NameMatch {
  const raw = typeof claimed === 'string' ? claimed : claimed.raw;
  // The common case, a name sent exactly as registered, needs no normalization.
  if (registered === raw) return { match: true, level: 'exact', score: 100 };
  const claim = typeof claimed === 'string' ? prepareName(claimed) : claimed;
  const name = registeredName(registered);
  if (name.canonical === claim.canonical) return { match: true, level: 'exact', score: 100 };
  const registeredWords = wordsAsClaimed(name, claim);
  const sameWords = registeredWords.length === claim.words.length && registeredWords.every((w, i) => w.text === claim.words[i].text);
  if ((sameWords && !claim.marked) || joinedWordsMatch(registeredWords, claim.words)) return { match: true, level: 'normalized', score: 100 };
  const score = fuzzyScore(registeredWords, claim);
  const match = score >= threshold;
  return { match, level: match ? 'fuzzy' : 'none', score };
}
