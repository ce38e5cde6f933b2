import { foldedTokens } from './text.js';
import { tokenSimilarity } from './similarity.js';

export interface PlaceMatch {
  match: boolean;
  score: number;
}

export const PLACE_MATCH_THRESHOLD = 80;

// Administrative words that one writer includes and another leaves out.
const ADMIN_WORDS = new Set(['tinh', 'thanh', 'pho', 'tp', 'quan', 'huyen', 'thi', 'xa', 'phuong', 'tran', 'thon', 'ap', 'to', 'so']);

function placeTokens(text: string): string[] {
  const tokens = foldedTokens(text);
  const kept = tokens.filter((t) => !ADMIN_WORDS.has(t));
  return kept.length > 0 ? kept : tokens;
}

/** Best-pair token similarity averaged over the longer side, 0-100. */
export function matchPlace(registered: string, claimed: string): PlaceMatch {
  const a = placeTokens(registered);
  const b = placeTokens(claimed);
  if (a.length === 0 || b.length === 0) return { match: false, score: 0 };
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let sum = 0;
  for (const token of long) sum += Math.max(...short.map((other) => tokenSimilarity(token, other)));
  const score = Math.round((100 * sum) / long.length);
  return { match: score >= PLACE_MATCH_THRESHOLD, score };
}
