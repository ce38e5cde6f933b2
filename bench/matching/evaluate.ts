import { DEFAULT_MAX_CANDIDATES, MAX_CANDIDATES } from '../../src/verification/demographic.js';
import type { Pair } from './pairs.js';

/** Name thresholds of the curve; the default is among them. */
export const THRESHOLDS = [0, 50, 60, 70, 75, 80, 85, 88, 90, 92, 95, 97, 99, 100];

export interface VerifyTally {
  pairs: number;
  /** `result: "match"` at the default threshold, as the server answered. */
  accepted: number;
  /** `result: "partial"`: nothing contradicted, the register holds a coarser date. */
  partial: number;
  /** Answers with an error (a claim the API refused as malformed). */
  errors: number;
  /** Date of birth refused but flagged as day and month swapped. */
  transposed: number;
  /** Pairs accepted at each of THRESHOLDS, from the name score and the other fields. */
  acceptedAt: number[];
}

export interface SearchTally {
  queries: number;
  /** "unique", naming the right person. */
  uniqueRight: number;
  /** "ambiguous", every expected person among the candidates listed by default. */
  ambiguousWithRight: number;
  /** "ambiguous", every expected person among the first MAX_CANDIDATES (options.maxCandidates at its maximum). */
  ambiguousWithRightInMax: number;
  /** "unique" naming someone else, or only one of two same-name people. */
  uniqueWrong: number;
  /** "none", or the right person not among the candidates. */
  missed: number;
  errors: number;
}

type Answer = Record<string, any>;

const emptyVerify = (): VerifyTally => ({ pairs: 0, accepted: 0, partial: 0, errors: 0, transposed: 0, acceptedAt: THRESHOLDS.map(() => 0) });
const emptySearch = (): SearchTally => ({ queries: 0, uniqueRight: 0, ambiguousWithRight: 0, ambiguousWithRightInMax: 0, uniqueWrong: 0, missed: 0, errors: 0 });

/**
 * Tallies one ID-number answer. At threshold t a claim is accepted when every field
 * but the name matched, the date at the precision claimed, and the name scored t or
 * more: the server's own decision at its threshold, which is checked to agree.
 */
export function tallyVerify(tally: VerifyTally, answer: Answer, defaultThreshold: number): void {
  tally.pairs++;
  if (answer.error) {
    tally.errors++;
    return;
  }
  if (answer.result === 'match') tally.accepted++;
  if (answer.result === 'partial') tally.partial++;
  if (answer.fields?.dateOfBirth?.transposed) tally.transposed++;
  if (answer.result === 'not_found') return;
  const others = Object.entries(answer.fields as Record<string, { match: boolean }>).every(([field, f]) => field === 'fullName' || f.match);
  const score: number = answer.fields.fullName.score;
  const precise = answer.result !== 'partial';
  THRESHOLDS.forEach((t, i) => {
    if (others && precise && score >= t) tally.acceptedAt[i]++;
  });
  const recomputed = others && precise && score >= defaultThreshold;
  if (recomputed !== (answer.result === 'match')) throw new Error(`the curve's decision rule disagrees with the server on ${JSON.stringify(answer)}`);
}

/**
 * Tallies one search answer, asked for the most candidates: its first `listedByDefault`
 * are what a search with the default options lists (the ranking does not depend on how
 * many are asked for).
 */
export function tallySearch(tally: SearchTally, answer: Answer, expected: string[], listedByDefault: number, identify: (candidateRef: string) => string | undefined): void {
  tally.queries++;
  if (answer.error) {
    tally.errors++;
    return;
  }
  // The evaluation holds the index secret, so it can tell who a candidate reference names.
  const found = answer.candidates.map((c: { candidateRef: string }) => identify(c.candidateRef));
  const within = (n: number) => expected.every((id) => found.slice(0, n).includes(id));
  if (answer.result === 'unique') {
    if (expected.length === 1 && within(1)) tally.uniqueRight++;
    else tally.uniqueWrong++;
    return;
  }
  if (answer.result === 'ambiguous' && within(found.length)) tally.ambiguousWithRightInMax++;
  if (answer.result === 'ambiguous' && within(listedByDefault)) tally.ambiguousWithRight++;
  else tally.missed++;
}

/** Sends items in batches of up to 1,000 through the batch endpoint, a few in flight. */
export async function answerAll(url: string, key: string, items: object[], inFlight = 3): Promise<Answer[]> {
  const answers: Answer[] = new Array(items.length);
  const BATCH = 1000;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const start = next;
      next += BATCH;
      const slice = items.slice(start, start + BATCH);
      const res = await fetch(url + '/v1/verify/batch', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: slice, purpose: 'matching-evaluation' }),
      });
      if (!res.ok) throw new Error(`batch answered ${res.status}: ${await res.text()}`);
      const { results } = (await res.json()) as { results: Answer[] };
      results.forEach((r, i) => (answers[start + i] = r));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return answers;
}

export interface KindTallies {
  verify?: VerifyTally;
  search?: SearchTally;
}

/** Runs every pair through the API: by ID number, and by name and date of birth where the kind asks. */
export async function evaluate(
  url: string,
  key: string,
  pairs: Map<string, Pair[]>,
  kinds: { key: string; checkById: boolean; searchByName: boolean }[],
  defaultThreshold: number,
  identify: (candidateRef: string) => string | undefined,
): Promise<Map<string, KindTallies>> {
  const items: object[] = [];
  const route: { kind: string; type: 'verify' | 'search'; pair: Pair }[] = [];
  for (const k of kinds) {
    for (const pair of pairs.get(k.key) ?? []) {
      const { idNumber, fullName, dateOfBirth } = pair.claim;
      if (k.checkById) {
        items.push({ type: 'id', idNumber, fullName, dateOfBirth });
        route.push({ kind: k.key, type: 'verify', pair });
      }
      if (k.searchByName) {
        items.push({ type: 'demographic', fullName, dateOfBirth, options: { maxCandidates: MAX_CANDIDATES } });
        route.push({ kind: k.key, type: 'search', pair });
      }
    }
  }
  const answers = await answerAll(url, key, items);
  const tallies = new Map<string, KindTallies>(kinds.map((k) => [k.key, {}]));
  route.forEach(({ kind, type, pair }, i) => {
    const t = tallies.get(kind)!;
    if (type === 'verify') tallyVerify((t.verify ??= emptyVerify()), answers[i], defaultThreshold);
    else tallySearch((t.search ??= emptySearch()), answers[i], (pair.expected ?? [pair.target]).map((c) => c.idNumber), DEFAULT_MAX_CANDIDATES, identify);
  });
  return tallies;
}
