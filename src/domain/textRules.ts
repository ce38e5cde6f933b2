/**
 * What text a person's record may hold, stated once for claims (the contract's formats)
 * and for the register (the import rules), so the register never holds a name no claim
 * could send back. Each rule returns the rule broken, in words about the rule, never the
 * value (it may be personal data); undefined when the value is fit.
 */

// Control characters (NUL included) but the tab, which forms paste between words and names
// read as a space; U+FFFD, what a decoder puts for bytes that are not UTF-8; and a surrogate
// without its other half (possible in JSON's \u escapes).
const UNFIT_TEXT = /[^\P{Cc}\t]|\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;
// Refused, not cleaned: a name with a NUL in it must not quietly become a match.
export const textProblem = (value: string) => (UNFIT_TEXT.test(value) ? 'must be text: no control characters, unpaired surrogates or bytes that are not UTF-8' : undefined);

// A claim states at least the whole name: an answer to less (one word of a name) would
// tell the client something it did not already hold.
const NAME_WORD = /\p{L}[\p{L}\p{M}'’.-]*/gu;

/** A full name as a claim states it: text, with letters, a family name and a given name at least. */
export function fullNameProblem(value: string): string | undefined {
  const unfit = textProblem(value);
  if (unfit) return unfit;
  if (!/\p{L}/u.test(value)) return 'must contain letters';
  if ((value.match(NAME_WORD) ?? []).length < 2) return 'must be the full name: a family name and a given name at least';
  return undefined;
}

// Invisible format characters (zero-width joiners and spaces, direction marks, the soft
// hyphen, the byte-order mark): claims drop them (canonicalText), but in the register they
// would decide where a word ends unseen (U+200D between two words joins them).
const FORMAT_MARK = /\p{Cf}/u;

/** A name as the register may hold it: one a claim can send, and shown as it matches. */
export function registerNameProblem(value: string): string | undefined {
  return fullNameProblem(value) ?? (FORMAT_MARK.test(value) ? 'must not hold invisible format characters (zero-width marks, direction marks, soft hyphens)' : undefined);
}
