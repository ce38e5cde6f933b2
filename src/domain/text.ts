/**
 * Vietnamese-aware text normalization. Two forms:
 * - canonical: NFC, lower case, single spaces, new-style tone placement. Equal canonical
 *   forms are the same letters and diacritics ("Hòa" and "HOÀ" are equal).
 * - folded: canonical without any diacritic, đ → d. Equal folded forms are the
 *   `normalized` match level.
 */

// Invisible characters that legacy encodings and copy-paste leave behind.
const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/g;
// Characters that look like Đ/đ but are not (Icelandic eth, African D).
const D_LOOKALIKES = /[\u00D0\u0189]/g;
const d_LOOKALIKES = /[\u00F0\u0256]/g;
const SPACES = /[\s\u00A0]+/g;
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

export function canonicalText(text: string): string {
  const cleaned = text
    .normalize('NFC')
    .replace(INVISIBLE, '')
    .replace(D_LOOKALIKES, 'Đ')
    .replace(d_LOOKALIKES, 'đ')
    .toLowerCase()
    .replace(SPACES, ' ')
    .trim();
  return cleaned.split(' ').map(newStyleTone).join(' ');
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
