/**
 * Vietnamese-aware text normalization. Two forms:
 * - canonical: NFC (marks in any order), lower case, single spaces, new-style tone
 *   placement, mis-decoded UTF-8 repaired. Equal canonical forms are the same letters
 *   and diacritics ("Hòa" and "HOÀ" are equal).
 * - folded: canonical without any diacritic, đ → d. Equal folded forms are the
 *   `normalized` match level.
 */
import { memo } from './memo.js';

// Invisible format characters that legacy encodings and copy-paste leave behind (zero-width
// marks, direction marks such as U+200F, the soft hyphen, the byte-order mark): all of Cf.
const INVISIBLE = /\p{Cf}/gu;
// Characters that look like Đ/đ but are not (Icelandic eth, African D).
const D_LOOKALIKES = /[\u00D0\u0189]/g;
const d_LOOKALIKES = /[\u00F0\u0256]/g;
const MARKS = /\p{Mn}/gu;

// Old style puts the tone on the first vowel of an open "oa", "oe", "uy" rhyme
// (hòa, khỏe, thủy); the 2018 rule puts it on the main vowel (hoà, khoẻ, thuỷ).
// Only these 15 spellings differ; syllables with a final consonant are the same.
const OLD_STYLE_RHYME = /([^aăâeêioôơuưy]|^)([òóỏõọ])([ae])$|([^aăâeêioôơuưyq]|^)([ùúủũụ])(y)$/;
const TONE_OF = new Map<string, string>([
  ['ò', '\u0300'], ['ó', '\u0301'], ['ỏ', '\u0309'], ['õ', '\u0303'], ['ọ', '\u0323'],
  ['ù', '\u0300'], ['ú', '\u0301'], ['ủ', '\u0309'], ['ũ', '\u0303'], ['ụ', '\u0323'],
]);

function newStyleTone(syllable: string): string {
  const m = OLD_STYLE_RHYME.exec(syllable);
  if (!m) return syllable;
  const [lead, toned, vowel] = m[2] ? [m[1], m[2], m[3]] : [m[4], m[5], m[6]];
  const base = toned.normalize('NFD')[0];
  const moved = (vowel + TONE_OF.get(toned)!).normalize('NFC');
  return syllable.slice(0, m.index) + lead + base + moved;
}

// Combining marks that give a vowel its shape (circumflex, breve) and tone marks share a
// Unicode combining class, so NFC keeps them in the order typed and "a + acute +
// circumflex" would not compose to "ấ". Shape first, as in the precomposed letters.
const SHAPE_MARK = /[\u0302\u0306\u031b]/;
const MARK_RUN = /[\u0300-\u036f]{2,}/g;
const shapeFirst = (run: string) =>
  [...run].sort((a, b) => Number(!SHAPE_MARK.test(a)) - Number(!SHAPE_MARK.test(b))).join('');

function composed(text: string): string {
  const nfc = text.normalize('NFC');
  // A tone typed before the shape mark leaves the shape mark uncomposed by NFC.
  if (!SHAPE_MARK.test(nfc)) return nfc;
  return nfc.normalize('NFD').replace(MARK_RUN, shapeFirst).normalize('NFC');
}

// UTF-8 bytes decoded as Windows-1252 or Latin-1 by an older system ("Nguyá»…n" for
// "Nguyễn"): a lead byte (À..ÿ) followed by a continuation byte (0x80..0xBF, or the
// Windows-1252 characters at 0x80..0x9F).
/** Windows-1252's characters for the bytes 0x80..0x9F (the five it leaves undefined as Latin-1's controls). */
export const WINDOWS_1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';
const CP1252_BYTE = new Map([...WINDOWS_1252_HIGH].map((c, i) => [c, 0x80 + i]));

/** The bytes of `text` in UTF-8, shown as Windows-1252 or Latin-1 text by an older system: what the repair below undoes. */
export function misdecodedUtf8(text: string, as: 'windows-1252' | 'latin1'): string {
  const high = as === 'windows-1252';
  return [...Buffer.from(text, 'utf8')].map((b) => (high && b >= 0x80 && b < 0xa0 ? WINDOWS_1252_HIGH[b - 0x80] : String.fromCharCode(b))).join('');
}
const MOJIBAKE = new RegExp(`[\u00C2-\u00EF][\u0080-\u00BF${WINDOWS_1252_HIGH}]`);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The text those bytes meant, or the text itself when it is not mis-decoded UTF-8. */
export function repairMisdecodedUtf8(text: string): string {
  if (!MOJIBAKE.test(text)) return text;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const byte = code <= 0xff ? code : CP1252_BYTE.get(text[i]);
    if (byte === undefined) return text;
    bytes[i] = byte;
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return text;
  }
}

// Whitespace between words: \s (which holds U+00A0) but for U+FEFF, an invisible character
// removed within a word. No other whitespace is invisible or composes with a neighbour, so
// a name's canonical form is its words' canonical forms, space-joined.
const BETWEEN_WORDS = /[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

function canonicalWord(word: string): string {
  const cleaned = composed(word).replace(INVISIBLE, '').replace(D_LOOKALIKES, 'Đ').replace(d_LOOKALIKES, 'đ').toLowerCase();
  return newStyleTone(cleaned);
}

// Names are made of a few thousand words, and a search compares dozens of names: each word
// is made canonical once.
const canonicalWordOnce = memo(canonicalWord, 50_000);

export function canonicalText(text: string): string {
  // Mis-decoded bytes can hold U+00A0, which is also whitespace: repaired before the split.
  const words = repairMisdecodedUtf8(text).split(BETWEEN_WORDS);
  let out = '';
  for (const word of words) {
    const canonical = canonicalWordOnce(word);
    if (canonical !== '') out = out === '' ? canonical : `${out} ${canonical}`;
  }
  return out;
}

export function foldDiacritics(canonical: string): string {
  return canonical.normalize('NFD').replace(MARKS, '').replace(/đ/g, 'd');
}

/** Folded tokens of a name: letters and digits only, in order. */
export function foldedTokens(text: string): string[] {
  return foldDiacritics(canonicalText(text))
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0);
}
