import type { Citizen } from '../../src/domain/citizen.js';
import { parsePartialDate, formatPartialDate } from '../../src/domain/dates.js';
import { GIVEN_ROWS } from '../../src/domain/nameWords.js';
import { editDistance } from '../../src/domain/similarity.js';
import { canonicalText } from '../../src/domain/text.js';
import { GIVEN } from '../../src/synth/facts.js';
import { Random } from '../../src/synth/random.js';
import { NAME_VARIATIONS, stripDiacritics } from './variations.js';

/** A labelled claim: checked by ID number against `target`, and optionally searched by name and date of birth. */
export interface Pair {
  kind: string;
  claim: { idNumber: string; fullName: string; dateOfBirth: string };
  target: Citizen;
  /** For a demographic search: the people the answer must name (the target, or both of a same-name pair). */
  expected?: Citizen[];
}

/** A pair before it is filed under its kind. */
type Made = Omit<Pair, 'kind'>;

export type Group = 'benign' | 'slip' | 'other' | 'impostor' | 'informational';

export interface Kind {
  key: string;
  title: string;
  group: Group;
  /** Genuine pairs are the person's own identity; impostor pairs another person's. */
  genuine: boolean;
  /** Also searched by name and date of birth. */
  searchByName: boolean;
  /** Checked by ID number (same-name-same-birthday pairs are judged by the search only). */
  checkById: boolean;
}

const kind = (key: string, title: string, group: Group, genuine: boolean, searchByName: boolean, checkById = true): Kind => ({ key, title, group, genuine, searchByName, checkById });

export const KINDS: Kind[] = [
  kind('noDiacritics', 'no diacritics ("Nguyen Van An")', 'benign', true, true),
  kind('tonePlacement', 'old vs new tone placement ("Hòa"/"Hoà")', 'benign', true, true),
  kind('decomposed', 'decomposed input (NFD)', 'benign', true, true),
  kind('upperCase', 'upper case', 'benign', true, true),
  kind('spacing', 'extra or missing spaces', 'benign', true, true),
  kind('legacyEncoding', 'legacy encoding (UTF-8 read as Windows-1252/Latin-1; Windows-1258 tone marks)', 'other', true, true),
  kind('droppedMiddle', 'a middle name dropped', 'slip', true, true),
  kind('extraMiddle', 'an extra middle name', 'slip', true, true),
  kind('swappedOrder', 'given name first, or surname last', 'slip', true, true),
  kind('typo', 'one typo (neighbouring key, letter dropped, doubled or swapped)', 'slip', true, true),
  kind('spellingConfusion', 'a spelling confusion (d/gi/r, tr/ch, s/x, l/n, i/y)', 'slip', true, true),
  kind('partialDateOnRecord', 'year or month only on record, full date claimed', 'other', true, true),
  kind('dayMonthSwapped', 'day and month swapped', 'other', true, false),
  kind('legacyIdNumber', 'legacy 9-digit number instead of the new one', 'other', true, false),
  kind('sameNameSameBirthday', 'same name and birthday (told apart by ID number: search must not answer unique)', 'impostor', false, true, false),
  kind('sameNameSameYear', 'same name and birth year, another birthday', 'impostor', false, false),
  kind('otherMiddleName', 'same surname and given name, another middle name', 'impostor', false, false),
  kind('oneLetterGivenName', 'given name one letter or mark away, another real name ("An"/"Ân"/"Anh")', 'impostor', false, false),
  kind('twins', 'twins: same surname and birthday, another given name', 'impostor', false, false),
  kind('otherPersonsName', "another person's name and birthday on a real ID number", 'impostor', false, false),
  kind('oneLetterGivenNamePlain', 'one letter or mark away, claimed without diacritics ("An" for "Ân")', 'informational', false, false),
  kind('iyGivenName', 'given name spelt with i for y or y for i ("Vi"/"Vy"), read as one name', 'informational', false, false),
];

const DAY_MS = 86_400_000;
const words = (name: string) => name.split(' ');
const iy = (word: string) => word.normalize('NFD').replace(/y/g, 'i');

/** For each given name, the other real given names one letter or mark away (i/y spellings apart). */
function givenNeighbours(): Map<string, { oneLetter: string[]; iy: string[] }> {
  const names = GIVEN_ROWS.map((r) => r.given);
  const map = new Map<string, { oneLetter: string[]; iy: string[] }>();
  for (const a of names) {
    const entry = { oneLetter: [] as string[], iy: [] as string[] };
    for (const b of names) {
      if (a === b) continue;
      if (iy(a) === iy(b)) entry.iy.push(b);
      else if (editDistance(canonicalText(a), canonicalText(b)) === 1) entry.oneLetter.push(b);
    }
    map.set(a, entry);
  }
  return map;
}

function groupBy(people: Citizen[], key: (c: Citizen) => string | undefined): Map<string, Citizen[]> {
  const groups = new Map<string, Citizen[]>();
  for (const c of people) {
    const k = key(c);
    if (k === undefined) continue;
    const g = groups.get(k);
    if (g) g.push(c);
    else groups.set(k, [c]);
  }
  return groups;
}

/** A full date inside a registered partial one, as a client must claim it: a claim is never partial. */
export function fullDateWithin(registered: string, random: Random): string {
  if (registered.length === 10) return registered;
  const d = parsePartialDate(registered)!;
  const start = Date.UTC(d.year, d.month ? d.month - 1 : 0, 1);
  const end = d.month ? Date.UTC(d.year, d.month, 1) : Date.UTC(d.year + 1, 0, 1);
  return new Date(start + random.int((end - start) / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

function swapDayMonth(date: string): string | undefined {
  const d = parsePartialDate(date)!;
  if (d.precision !== 'day' || d.day! > 12 || d.day === d.month) return undefined;
  return formatPartialDate({ year: d.year, month: d.day, day: d.month, precision: 'day' });
}

/** Middle names as a set; the other-middle impostor has middles on both sides, neither within the other. */
function middlesDiffer(a: string, b: string): boolean {
  const ma = words(canonicalText(a)).slice(1, -1);
  const mb = words(canonicalText(b)).slice(1, -1);
  if (ma.length === 0 || mb.length === 0) return false;
  return !ma.every((w) => mb.includes(w)) && !mb.every((w) => ma.includes(w));
}

const withGiven = (name: string, given: string) => [...words(name).slice(0, -1), given].join(' ');

/**
 * Builds up to `perKind` pairs of every kind from a sample of the indexed population.
 * Deterministic for a seed. Kinds that need two real people (same name and birthday,
 * another middle name) take them from the sample.
 */
export function buildPairs(sample: Citizen[], perKind: number, seed: number): Map<string, Pair[]> {
  const random = new Random(seed);
  const neighbours = givenNeighbours();
  const byNameDate = groupBy(sample, (c) => `${canonicalText(c.fullName)}|${c.dateOfBirth}`);
  const byNameYear = groupBy(sample, (c) => `${canonicalText(c.fullName)}|${c.dateOfBirth.slice(0, 4)}`);
  const bySurnameGiven = groupBy(sample, (c) => {
    const w = words(canonicalText(c.fullName));
    return w.length >= 3 ? `${w[0]} ${w[w.length - 1]}` : undefined;
  });
  const givenOf = (c: Citizen) => words(c.fullName).at(-1)!;
  const pairs = new Map<string, Pair[]>(KINDS.map((k) => [k.key, []]));
  // Claims are never partial: a date the register holds as a year or a month is claimed as
  // a day in it, drawn apart so the pairs drawn stay those of the main sequence.
  const completing = new Random(seed + 1);
  const own = (c: Citizen, fullName = c.fullName, dateOfBirth = c.dateOfBirth, idNumber = c.idNumber) => ({ idNumber, fullName, dateOfBirth: fullDateWithin(dateOfBirth, completing) });

  /** The target's name with another given name from `options` (one drawn), or undefined when there is none. */
  const withNeighbour = (t: Citizen, options: string[] | undefined, shown = (name: string) => name): Made | undefined =>
    options?.length ? { claim: own(t, shown(withGiven(t.fullName, options[random.int(options.length)]))), target: t } : undefined;

  /** Per kind: a pair for this target, or undefined when the kind does not apply to them. */
  const makers: Record<string, (t: Citizen) => Made | undefined> = {
    partialDateOnRecord: (t) => (t.dateOfBirth.length < 10 ? { claim: own(t, t.fullName, fullDateWithin(t.dateOfBirth, random)), target: t, expected: [t] } : undefined),
    dayMonthSwapped: (t) => {
      const swapped = swapDayMonth(t.dateOfBirth);
      return swapped ? { claim: own(t, t.fullName, swapped), target: t } : undefined;
    },
    legacyIdNumber: (t) => (t.legacyIdNumber?.length === 9 ? { claim: own(t, t.fullName, t.dateOfBirth, t.legacyIdNumber), target: t } : undefined),
    sameNameSameBirthday: (t) => {
      const group = byNameDate.get(`${canonicalText(t.fullName)}|${t.dateOfBirth}`)!;
      const other = group.find((c) => c !== t);
      return other ? { claim: own(other), target: t, expected: [t, other] } : undefined;
    },
    sameNameSameYear: (t) => {
      // Another full birthday in the same year: a claim of the year alone would be true of both.
      const group = byNameYear.get(`${canonicalText(t.fullName)}|${t.dateOfBirth.slice(0, 4)}`)!;
      const others = group.filter((c) => c.dateOfBirth.length === 10 && c.dateOfBirth !== t.dateOfBirth);
      if (others.length === 0) return undefined;
      const other = others[random.int(others.length)];
      return { claim: own(t, other.fullName, other.dateOfBirth), target: t };
    },
    otherMiddleName: (t) => {
      const w = words(canonicalText(t.fullName));
      const group = w.length >= 3 ? bySurnameGiven.get(`${w[0]} ${w[w.length - 1]}`)! : [];
      const others = group.filter((c) => middlesDiffer(c.fullName, t.fullName));
      return others.length ? { claim: own(t, others[random.int(others.length)].fullName), target: t } : undefined;
    },
    oneLetterGivenName: (t) => withNeighbour(t, neighbours.get(givenOf(t))?.oneLetter),
    oneLetterGivenNamePlain: (t) => withNeighbour(t, neighbours.get(givenOf(t))?.oneLetter, stripDiacritics),
    iyGivenName: (t) => withNeighbour(t, neighbours.get(givenOf(t))?.iy),
    twins: (t) => {
      let given = GIVEN[t.gender].pick(random);
      for (let i = 0; i < 10 && canonicalText(given) === canonicalText(givenOf(t)); i++) given = GIVEN[t.gender].pick(random);
      return canonicalText(given) === canonicalText(givenOf(t)) ? undefined : { claim: own(t, withGiven(t.fullName, given)), target: t };
    },
    otherPersonsName: (t) => {
      const other = sample[random.int(sample.length)];
      return other === t ? undefined : { claim: own(t, other.fullName, other.dateOfBirth), target: t };
    },
  };
  for (const [key, vary] of Object.entries(NAME_VARIATIONS)) {
    makers[key] = (t) => {
      const claimed = vary(t.fullName, random, t.gender);
      return claimed === undefined || claimed === t.fullName ? undefined : { claim: own(t, claimed), target: t, expected: [t] };
    };
  }

  for (const k of KINDS) {
    const out = pairs.get(k.key)!;
    const make = makers[k.key];
    // Targets drawn at random; a kind that applies to few people looks further.
    for (let tries = 0; out.length < perKind && tries < 200 * perKind; tries++) {
      const made = make(sample[random.int(sample.length)]);
      if (made) out.push({ ...made, kind: k.key });
    }
  }
  return pairs;
}
