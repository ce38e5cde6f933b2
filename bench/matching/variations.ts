import type { Gender } from '../../src/domain/idNumber.js';
import { GIVEN, MIDDLES } from '../../src/synth/facts.js';
import type { Random } from '../../src/synth/random.js';
import { misdecodedUtf8 } from '../../src/domain/text.js';

/**
 * The ways a genuine claimant's name differs from the register: each takes the
 * registered name and returns the claimed one, or undefined when the variation does
 * not apply to this name (no middle name to drop, no letter to confuse).
 */
export type NameVariation = (name: string, random: Random, gender: Gender) => string | undefined;

const pick = <T>(items: readonly T[], random: Random): T => items[random.int(items.length)];
const words = (name: string) => name.split(' ');

/** Applies `change` to one word chosen among those it applies to. */
function oneWord(name: string, random: Random, change: (word: string) => string | undefined): string | undefined {
  const ws = words(name);
  const options = ws.map((w, i) => [i, change(w)] as const).filter(([, w]) => w !== undefined);
  if (options.length === 0) return undefined;
  const [i, changed] = pick(options, random);
  ws[i] = changed!;
  return ws.join(' ');
}

const keepCase = (original: string, changed: string) =>
  original[0] === original[0].toUpperCase() ? changed[0].toUpperCase() + changed.slice(1) : changed;

export const stripDiacritics = (text: string) => text.normalize('NFD').replace(/\p{Mn}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');

// Open rhymes written with the tone on either vowel: old style on the first (hòa, thủy),
// new style on the main vowel (hoà, thuỷ).
const TONES = ['\u0300', '\u0301', '\u0309', '\u0303', '\u0323'];
const OLD_STYLE = /^(.*[^aăâeêioôơuưyq]|)([ou])([\u0300\u0301\u0309\u0303\u0323])([aey])$/u;
const NEW_STYLE = /^(.*[^aăâeêioôơuưyq]|)([ou])([aey])([\u0300\u0301\u0309\u0303\u0323])$/u;
function toggleTone(word: string): string | undefined {
  const nfd = word.normalize('NFD');
  const lower = nfd.toLowerCase();
  const valid = (v1: string, v2: string) => (v1 === 'o' && (v2 === 'a' || v2 === 'e')) || (v1 === 'u' && v2 === 'y');
  let m = OLD_STYLE.exec(lower);
  if (m && valid(m[2], m[4]) && TONES.includes(m[3])) {
    return (nfd.slice(0, m[1].length) + nfd[m[1].length] + nfd[m[1].length + 2] + m[3]).normalize('NFC');
  }
  m = NEW_STYLE.exec(lower);
  if (m && valid(m[2], m[3])) return (nfd.slice(0, m[1].length) + nfd[m[1].length] + m[4] + nfd[m[1].length + 1]).normalize('NFC');
  return undefined;
}

/** Mis-decoded UTF-8, or Windows-1258's letters with separate tone marks. */
function legacyEncoding(name: string, random: Random): string {
  const form = random.int(3);
  if (form === 2) {
    // Windows-1258 has ă, â, ê, ô, ơ, ư, đ as letters and the five tones as combining marks.
    return name.normalize('NFD').replace(/([aeiouyAEIOUY][\u0302\u0306\u031b]?)([\u0300\u0301\u0303\u0309\u0323])/g, (_, base: string, tone: string) => base.normalize('NFC') + tone);
  }
  return misdecodedUtf8(name, form === 0 ? 'windows-1252' : 'latin1');
}

// Neighbouring keys on a QWERTY keyboard, for typing slips.
const ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
function neighbour(letter: string, random: Random): string {
  const base = stripDiacritics(letter).toLowerCase();
  const row = ROWS.find((r) => r.includes(base));
  if (!row) return 'a';
  const i = row.indexOf(base);
  const options = [row[i - 1], row[i + 1]].filter(Boolean);
  return pick(options, random);
}

/**
 * One slip of the fingers: a neighbouring key, a letter dropped or doubled, two letters
 * swapped; at a letter drawn uniformly from the name (each keystroke as likely to slip).
 */
function typoInName(name: string, random: Random): string | undefined {
  const ws = words(name);
  // The capital initials are rarely mistyped.
  const slots = ws.flatMap((w, wi) => [...w].slice(1).map((_, li) => [wi, li + 1] as const));
  if (slots.length === 0) return undefined;
  const [wi, li] = pick(slots, random);
  const typed = typo(ws[wi], li, random);
  if (typed === undefined) return undefined;
  ws[wi] = typed;
  return ws.join(' ');
}

function typo(word: string, i: number, random: Random): string | undefined {
  const letters = [...word];
  switch (random.int(4)) {
    case 0:
      letters[i] = neighbour(letters[i], random);
      break;
    case 1:
      if (letters.length < 3) return undefined;
      letters.splice(i, 1);
      break;
    case 2:
      letters.splice(i, 0, random.chance(0.5) ? letters[i] : neighbour(letters[i], random));
      break;
    default:
      if (i === letters.length - 1) [letters[i - 1], letters[i]] = [letters[i], letters[i - 1]];
      else [letters[i], letters[i + 1]] = [letters[i + 1], letters[i]];
  }
  const typed = letters.join('');
  return typed === word ? undefined : typed;
}

// The spelling confusions of Vietnamese writers: initial d/gi/r, tr/ch, s/x, l/n, and i/y.
const INITIAL_SWAPS: [RegExp, string[]][] = [
  [/^gi(?=[aeouyàáảãạăâèéẻẽẹêòóỏõọôơùúủũụưỳýỷỹỵ])/i, ['d', 'r']],
  [/^d/i, ['gi', 'r']],
  [/^r/i, ['d', 'gi']],
  [/^tr/i, ['ch']],
  [/^ch/i, ['tr']],
  [/^s/i, ['x']],
  [/^x/i, ['s']],
  [/^l/i, ['n']],
  [/^n(?!g|h)/i, ['l']],
];
function confusion(word: string, random: Random): string | undefined {
  const options: string[] = [];
  for (const [pattern, replacements] of INITIAL_SWAPS) {
    const m = pattern.exec(word);
    // "gi" before an i is written "g" + that i ("gìn"): d → gi on "Diệu" gives "Giệu".
    const rest = (r: string) => (r === 'gi' && /^[iìíỉĩị]/i.test(word.slice(m![0].length)) ? word.slice(m![0].length + 1) : word.slice(m![0].length));
    if (m) for (const r of replacements) options.push(keepCase(word, r + rest(r)));
  }
  // i and y are confused as the last vowel of a syllable ("Thúy"/"Thúi", "Vy"/"Vi").
  const nfd = word.normalize('NFD');
  const last = /([iy])(\p{Mn}*)$/u.exec(nfd);
  if (last && last.index > 0) options.push((nfd.slice(0, last.index) + (last[1] === 'i' ? 'y' : 'i') + last[2]).normalize('NFC'));
  return options.length ? pick(options, random) : undefined;
}

function dropMiddle(name: string, random: Random): string | undefined {
  const ws = words(name);
  if (ws.length < 3) return undefined;
  ws.splice(1 + random.int(ws.length - 2), 1);
  return ws.join(' ');
}

function extraMiddle(name: string, random: Random, gender: Gender): string {
  const ws = words(name);
  let middle = MIDDLES[gender].pick(random);
  while (ws.includes(middle)) middle = GIVEN[gender].pick(random);
  ws.splice(1 + random.int(ws.length - 1), 0, middle);
  return ws.join(' ');
}

/** Given name first ("An Nguyễn Văn"), or the surname last as in Western forms ("Văn An Nguyễn"). */
function swappedOrder(name: string, random: Random): string | undefined {
  const ws = words(name);
  if (ws.length < 2) return undefined;
  const [surname, ...rest] = ws;
  if (random.chance(0.5)) return [rest[rest.length - 1], surname, ...rest.slice(0, -1)].join(' ');
  return [...rest, surname].join(' ');
}

function spacing(name: string, random: Random): string {
  const ws = words(name);
  if (random.chance(0.3) && ws.length >= 3) {
    const i = 1 + random.int(ws.length - 2);
    return [...ws.slice(0, i), ws[i] + ws[i + 1], ...ws.slice(i + 2)].join(' '); // a space lost
  }
  const gap = () => ' '.repeat(1 + random.int(3));
  return (random.chance(0.5) ? gap() : '') + ws.join(gap()) + (random.chance(0.5) ? '\t' : '');
}

export const NAME_VARIATIONS = {
  noDiacritics: (name: string) => stripDiacritics(name),
  tonePlacement: (name: string, random: Random) => oneWord(name, random, toggleTone),
  decomposed: (name: string) => name.normalize('NFD'),
  upperCase: (name: string) => name.toUpperCase(),
  spacing: (name: string, random: Random) => spacing(name, random),
  legacyEncoding: (name: string, random: Random) => legacyEncoding(name, random),
  droppedMiddle: (name: string, random: Random) => dropMiddle(name, random),
  extraMiddle: (name: string, random: Random, gender: Gender) => extraMiddle(name, random, gender),
  swappedOrder: (name: string, random: Random) => swappedOrder(name, random),
  typo: (name: string, random: Random) => typoInName(name, random),
  spellingConfusion: (name: string, random: Random) => oneWord(name, random, (w) => confusion(w, random)),
} satisfies Record<string, NameVariation>;
