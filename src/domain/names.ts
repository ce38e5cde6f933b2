import { canonicalText, foldDiacritics } from './text.js';
import { tokenSimilarity } from './similarity.js';

export type NameLevel = 'exact' | 'normalized' | 'fuzzy' | 'none';

export interface NameMatch {
  match: boolean;
  level: NameLevel;
  score: number;
}

/** The default `options.nameThreshold`: see README "Matching" for why. */
export const DEFAULT_NAME_THRESHOLD = 85;

// Weights of the parts of a Vietnamese name: the given name (last token) identifies
// most, the surname next, middle names least (they are often dropped or added).
const WEIGHT_SURNAME = 0.3;
const WEIGHT_GIVEN = 0.5;
const WEIGHT_MIDDLE = 0.2;
// A middle name present on one side only is missing information, not a contradiction.
const CREDIT_UNPAIRED_MIDDLE = 0.5;
const PENALTY_REORDERED = 3;
// Below this a token is a different word, not a typo of it.
const MIN_PAIR_SIMILARITY = 0.5;

/**
 * Middle names paired greedily by similarity. `sim[r][c]` is the similarity of record
 * token r and claim token c, computed once per comparison; middles are record tokens
 * 1 .. n-2, `rest` the claim tokens left after the surname and given name.
 */
function middleScore(sim: number[][], recordLength: number, rest: number[]): number {
  const middles = recordLength - 2;
  if (middles === 0 && rest.length === 0) return 1;
  const unused = [...rest];
  let pairedSum = 0;
  let paired = 0;
  for (let r = 1; r <= middles; r++) {
    let best = -1;
    let bestSim = MIN_PAIR_SIMILARITY;
    for (let i = 0; i < unused.length; i++) {
      const x = sim[r][unused[i]];
      if (x >= bestSim) [best, bestSim] = [i, x];
    }
    if (best >= 0) {
      pairedSum += bestSim;
      paired++;
      unused.splice(best, 1);
    }
  }
  const unpaired = middles - paired + unused.length;
  return (pairedSum + CREDIT_UNPAIRED_MIDDLE * unpaired) / (paired + unpaired);
}

/**
 * Token-aware score of a claimed name against the registered one, both as folded
 * tokens. The surname and given name may sit anywhere in the claim (swapped order
 * costs a little); middle names are paired by similarity. At most 99: 100 is kept
 * for names equal at the `normalized` level.
 */
export function fuzzyNameScore(record: string[], claim: string[]): number {
  if (record.length === 0 || claim.length === 0) return 0;
  if (record.length === 1 || claim.length === 1) {
    return Math.round(99 * WEIGHT_GIVEN * tokenSimilarity(record[record.length - 1], claim[claim.length - 1]));
  }
  // Every token pair once: the combinations below only look them up.
  const sim = record.map((r) => claim.map((c) => tokenSimilarity(r, c)));
  const given = record.length - 1;
  const indexes = claim.map((_, i) => i);
  let best = 0;
  for (let s = 0; s < claim.length; s++) {
    for (let g = 0; g < claim.length; g++) {
      if (s === g) continue;
      const reordered = s !== 0 || g !== claim.length - 1;
      const score =
        100 *
          (WEIGHT_SURNAME * sim[0][s] +
            WEIGHT_GIVEN * sim[given][g] +
            WEIGHT_MIDDLE * middleScore(sim, record.length, indexes.filter((i) => i !== s && i !== g))) -
        (reordered ? PENALTY_REORDERED : 0);
      if (score > best) best = score;
    }
  }
  return Math.min(99, Math.max(0, Math.round(best)));
}

const MAX_TOKENS = 8;
const nameTokens = (folded: string) => folded.split(/[^a-z0-9]+/).filter(Boolean).slice(0, MAX_TOKENS);

/** A claimed name normalized once, for comparison with many registered names (demographic search). */
export interface PreparedName {
  raw: string;
  canonical: string;
  folded: string;
  tokens: string[];
}

export function prepareName(claimed: string): PreparedName {
  const canonical = canonicalText(claimed);
  const folded = foldDiacritics(canonical);
  return { raw: claimed, canonical, folded, tokens: nameTokens(folded) };
}

/** Compares a claimed full name with the registered one and names the level at which they agree. */
export function matchName(registered: string, claimed: string | PreparedName, threshold = DEFAULT_NAME_THRESHOLD): NameMatch {
  const raw = typeof claimed === 'string' ? claimed : claimed.raw;
  // The common case, a name sent exactly as registered, needs no normalization.
  if (registered === raw) return { match: true, level: 'exact', score: 100 };
  const claim = typeof claimed === 'string' ? prepareName(claimed) : claimed;
  const canonRegistered = canonicalText(registered);
  if (canonRegistered === claim.canonical) return { match: true, level: 'exact', score: 100 };
  const foldRegistered = foldDiacritics(canonRegistered);
  if (foldRegistered === claim.folded) return { match: true, level: 'normalized', score: 100 };
  const score = fuzzyNameScore(nameTokens(foldRegistered), claim.tokens);
  const match = score >= threshold;
  return { match, level: match ? 'fuzzy' : 'none', score };
}
