import { PROVINCES, COUNTRIES, titledProvinceName } from '../domain/regions.js';
import { GIVEN_ROWS, MIDDLE_ROWS, SURNAME_ROWS } from '../domain/nameWords.js';
import { openBlob, sealBlob } from './sealing.js';

/**
 * Common words of names and common place names, stored as small integers in records.
 * Most frequent first, so the commonest words fit msgpack's one-byte integers (< 128).
 * A build writes its dictionary into the index metadata and readers decode with that
 * copy, so changing the reference tables never changes what an existing index means.
 * The copy is sealed (sealing.ts): the codes in a record mean nothing without the secret.
 */
export interface DictionaryData {
  words: string[];
  places: string[];
}

export class Dictionary {
  private readonly wordCodes: Map<string, number>;
  private readonly placeCodes: Map<string, number>;

  constructor(readonly data: DictionaryData) {
    this.wordCodes = new Map(data.words.map((w, i) => [w, i]));
    this.placeCodes = new Map(data.places.map((p, i) => [p, i]));
  }

  word(code: number): string {
    return this.data.words[code];
  }
  wordCode(word: string): number | undefined {
    return this.wordCodes.get(word);
  }
  place(code: number): string {
    return this.data.places[code];
  }
  placeCode(place: string): number | undefined {
    return this.placeCodes.get(place);
  }

  private static cached: Dictionary | undefined;

  /** Built from the name tables (src/domain/nameWords.ts) and the region lists. */
  static standard(): Dictionary {
    return (Dictionary.cached ??= new Dictionary({ words: standardWords(), places: standardPlaces() }));
  }
}

function byWeight(rows: Record<string, string>[], word: string, weight: (r: Record<string, string>) => number): [string, number][] {
  return rows.map((r) => [r[word], weight(r)]);
}

function standardWords(): string[] {
  // Shares per person, roughly comparable across the three tables.
  const weights = new Map<string, number>();
  const add = (pairs: [string, number][]) => pairs.forEach(([w, x]) => weights.set(w, (weights.get(w) ?? 0) + x));
  add(byWeight(SURNAME_ROWS, 'surname', (r) => Number(r.suggested_weight_pct) / 100));
  add(byWeight(MIDDLE_ROWS, 'middle', (r) => Number(r.pct_of_persons_with_middle) / 100));
  add(byWeight(GIVEN_ROWS, 'given', (r) => (Number(r.per_10k_males) + Number(r.per_10k_females)) / 20_000));
  return [...weights].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
}

function standardPlaces(): string[] {
  const places = new Set<string>();
  for (const p of [...PROVINCES].sort((a, b) => b.population - a.population)) {
    places.add(p.name);
    places.add(titledProvinceName(p));
  }
  for (const c of COUNTRIES) places.add(c.name);
  return [...places];
}

const DICTIONARY = 'dictionary';

/** The dictionary as the metadata keeps it: sealed, base64. */
export function sealDictionary(secret: Buffer, salt: Buffer, data: DictionaryData): string {
  return sealBlob(secret, salt, DICTIONARY, Buffer.from(JSON.stringify(data))).toString('base64');
}

export function openDictionary(secret: Buffer, salt: Buffer, sealed: string): Dictionary {
  return new Dictionary(JSON.parse(openBlob(secret, salt, DICTIONARY, Buffer.from(sealed, 'base64')).toString('utf8')) as DictionaryData);
}
