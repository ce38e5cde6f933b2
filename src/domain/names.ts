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

function middleScore(recordMiddles: string[], claimRest: string[]): number {
  if (recordMiddles.length === 0 && claimRest.length === 0) return 1;
  const unusedClaim = [...claimRest];
  let pairedSum = 0;
  let paired = 0;
  for (const middle of recordMiddles) {
    let best = -1;
    let bestSim = MIN_PAIR_SIMILARITY;
    unusedClaim.forEach((token, i) => {
      const sim = tokenSimilarity(middle, token);
      if (sim >= bestSim) [best, bestSim] = [i, sim];
    });
    if (best >= 0) {
      pairedSum += bestSim;
      paired++;
      unusedClaim.splice(best, 1);
    }
  }
  const unpaired = recordMiddles.length - paired + unusedClaim.length;
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
  const surname = record[0];
  const given = record[record.length - 1];
  let best = 0;
  for (let s = 0; s < claim.length; s++) {
    for (let g = 0; g < claim.length; g++) {
      if (s === g) continue;
      const rest = claim.filter((_, i) => i !== s && i !== g);
      const reordered = s !== 0 || g !== claim.length - 1;
      const score =
        100 *
          (WEIGHT_SURNAME * tokenSimilarity(surname, claim[s]) +
            WEIGHT_GIVEN * tokenSimilarity(given, claim[g]) +
            WEIGHT_MIDDLE * middleScore(record.slice(1, -1), rest)) -
        (reordered ? PENALTY_REORDERED : 0);
      if (score > best) best = score;
    }
  }
  return Math.min(99, Math.max(0, Math.round(best)));
}

const MAX_TOKENS = 8;

/** Compares a claimed full name with the registered one and names the level at which they agree. */
export function matchName(registered: string, claimed: string, threshold = DEFAULT_NAME_THRESHOLD): NameMatch {
  // The common case, a name sent exactly as registered, needs no normalization.
  if (registered === claimed) return { match: true, level: 'exact', score: 100 };
  const canonRegistered = canonicalText(registered);
  const canonClaimed = canonicalText(claimed);
  if (canonRegistered === canonClaimed) return { match: true, level: 'exact', score: 100 };
  const foldRegistered = foldDiacritics(canonRegistered);
  const foldClaimed = foldDiacritics(canonClaimed);
  if (foldRegistered === foldClaimed) return { match: true, level: 'normalized', score: 100 };
  const tokens = (s: string) => s.split(/[^a-z0-9]+/).filter(Boolean).slice(0, MAX_TOKENS);
  const score = fuzzyNameScore(tokens(foldRegistered), tokens(foldClaimed));
  const match = score >= threshold;
  return { match, level: match ? 'fuzzy' : 'none', score };
}
