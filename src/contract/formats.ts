import { parseFullDate, parsePartialDate } from '../domain/dates.js';
import { checkIdNumber, isLegacyIdNumber, isLegacyLookup } from '../domain/idNumber.js';
import { regionByCode } from '../domain/regions.js';
import { fullNameProblem, textProblem } from '../domain/textRules.js';

/**
 * The rules of the contract that a JSON Schema keyword cannot state: each is a named
 * string format of the schema (so /openapi.json names it and its `x-rule` says it in
 * words), checked by the compiled validator. `why` returns the rule a value breaks, in
 * words that describe the rule, never the value (it may be personal data); undefined
 * when the value is fit.
 */
export interface Format {
  why(value: string): string | undefined;
}

const text = textProblem;

export const FORMATS = {
  /** Free text: places, consent references. */
  text: { why: text },
  'full-name': { why: fullNameProblem },
  /** A date of birth claimed: whole, from 1900. */
  'birth-date': {
    why: (value) => {
      if (parseFullDate(value)) return undefined;
      return parsePartialDate(value) ? 'must be the full date, YYYY-MM-DD: a year or a month alone is not a claim' : 'must be a valid YYYY-MM-DD from 1900';
    },
  },
  /** A calendar date (a card's issue date). */
  'calendar-date': { why: (value) => (parseFullDate(value) ? undefined : 'must be a valid YYYY-MM-DD') },
  /** The ID number a verification names: a 12-digit personal number that could be issued, or a 9-digit legacy number. */
  'id-number': {
    why: (value) => {
      if (!isLegacyIdNumber(value)) return 'must be a string of 12 digits, or of 9 for a legacy number';
      if (isLegacyLookup(value)) return undefined;
      const id = checkIdNumber(value);
      return id.ok ? undefined : id.reason;
    },
  },
  /** A personal ID number as the register holds it: 12 digits that could be issued. */
  'personal-id-number': {
    why: (value) => {
      const id = /^[0-9]{12}$/.test(value) ? checkIdNumber(value) : undefined;
      return id?.ok ? undefined : 'must be a valid 12-digit ID number';
    },
  },
  'legacy-id-number': { why: (value) => (isLegacyIdNumber(value) ? undefined : 'must be 9 or 12 digits') },
  'province-code': { why: (value) => (/^[0-9]{3}$/.test(value) && regionByCode(value) ? undefined : 'must be a 3-digit province or country code') },
} satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;
