import { regionByCode } from './regions.js';

export type Gender = 'male' | 'female';

/** What digits 1-6 of a 12-digit personal ID number encode (Thông tư 07/2016 Điều 7). */
export interface IdNumberParts {
  regionCode: string;
  gender: Gender;
  birthYear: number;
}

export type IdNumberCheck = { ok: true; parts: IdNumberParts } | { ok: false; reason: string };

const TWELVE_DIGITS = /^[0-9]{12}$/;

/**
 * Structural check of an ID number. There is no check digit to verify: any serial is
 * structurally valid. Reasons never echo the number itself.
 */
export function checkIdNumber(id: string, currentYear = new Date().getUTCFullYear()): IdNumberCheck {
  if (!TWELVE_DIGITS.test(id)) return { ok: false, reason: 'must be exactly 12 digits' };
  const regionCode = id.slice(0, 3);
  if (!regionByCode(regionCode)) return { ok: false, reason: 'digits 1-3 are not a province or country code' };
  const centuryGender = id.charCodeAt(3) - 48;
  const birthYear = 1900 + 100 * Math.floor(centuryGender / 2) + Number(id.slice(4, 6));
  if (birthYear > currentYear) return { ok: false, reason: 'digits 4-6 encode a birth year in the future' };
  return { ok: true, parts: { regionCode, gender: centuryGender % 2 === 0 ? 'male' : 'female', birthYear } };
}

/** Digits 4-6 for a birth year and gender: the inverse of the decoding above. */
export function centuryGenderDigits(birthYear: number, gender: Gender): string {
  const century = Math.floor((birthYear - 1900) / 100);
  const digit = century * 2 + (gender === 'female' ? 1 : 0);
  return `${digit}${String(birthYear % 100).padStart(2, '0')}`;
}

/** The form shown to clients: region code and last three digits only. */
export function maskIdNumber(id: string): string {
  return `${id.slice(0, 3)}******${id.slice(9)}`;
}

const LEGACY_ID = /^(?:[0-9]{9}|[0-9]{12})$/;
const NINE_DIGITS = /^[0-9]{9}$/;

/**
 * A 9-digit number sent where the 12-digit one is expected: an old CMND number, which
 * finds its holder through the legacy numbers on record. (12-digit CMND numbers became
 * the personal ID numbers themselves.)
 */
export function isLegacyLookup(value: string): boolean {
  return NINE_DIGITS.test(value);
}

export function isLegacyIdNumber(value: string): boolean {
  return LEGACY_ID.test(value);
}
