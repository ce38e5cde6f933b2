/** A date as registered or claimed: full ("1990-05-17"), month ("1990-05") or year only ("1950"). */
export type Precision = 'day' | 'month' | 'year';

export interface PartialDate {
  year: number;
  month?: number;
  day?: number;
  precision: Precision;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Arithmetic rather than a Date object: this runs for every date a request or a record holds.
function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

/** `count` ASCII digits of `text` from `at` as a number, or -1 if any is not a digit. */
function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

// "YYYY", "YYYY-MM" or "YYYY-MM-DD", read by hand: this runs for every date a request or a record holds.
export function parsePartialDate(text: string): PartialDate | undefined {
  const length = text.length;
  if (length !== 4 && length !== 7 && length !== 10) return undefined;
  const year = digits(text, 0, 4);
  if (year < 1900) return undefined;
  if (length === 4) return { year, precision: 'year' };
  const month = text.charCodeAt(4) === 45 ? digits(text, 5, 2) : -1;
  if (month < 1 || month > 12) return undefined;
  if (length === 7) return { year, month, precision: 'month' };
  const day = text.charCodeAt(7) === 45 ? digits(text, 8, 2) : -1;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day, precision: 'day' };
}

export function parseFullDate(text: string): PartialDate | undefined {
  const date = parsePartialDate(text);
  return date?.precision === 'day' ? date : undefined;
}

export function formatPartialDate(d: PartialDate): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d.precision === 'year') return String(d.year);
  if (d.precision === 'month') return `${d.year}-${pad(d.month!)}`;
  return `${d.year}-${pad(d.month!)}-${pad(d.day!)}`;
}

const RANK: Record<Precision, number> = { year: 0, month: 1, day: 2 };

export interface DateMatch {
  match: boolean;
  /** The precision at which the dates were compared: the coarser of the two. */
  precision: Precision;
  /** Set when the dates differ but agree with day and month swapped (07/03 for 03/07). */
  transposed?: true;
}

/**
 * Compares a claimed date with the registered one at the finer precision both have:
 * a registered "1950" matches any claimed date in 1950, and says so with precision "year".
 */
export function compareDates(registered: PartialDate, claimed: PartialDate): DateMatch {
  const precision = RANK[registered.precision] <= RANK[claimed.precision] ? registered.precision : claimed.precision;
  let match = registered.year === claimed.year;
  if (match && precision !== 'year') match = registered.month === claimed.month;
  if (match && precision === 'day') match = registered.day === claimed.day;
  if (!match && precision === 'day' && registered.year === claimed.year && registered.month === claimed.day && registered.day === claimed.month) {
    return { match, precision, transposed: true };
  }
  return { match, precision };
}

/** True when the register holds the date less precisely than claimed: it agrees only as far as it goes. */
export const coarserThanClaimed = (result: DateMatch, claimed: PartialDate) => RANK[result.precision] < RANK[claimed.precision];

/** Completed years between a (possibly partial) birth date and a full date; a missing month or day counts as the 1st. */
export function ageOn(birth: PartialDate, on: PartialDate): number {
  const bm = birth.month ?? 1;
  const bd = birth.day ?? 1;
  const before = on.month! < bm || (on.month === bm && on.day! < bd);
  return on.year - birth.year - (before ? 1 : 0);
}

export function todayUtc(now = new Date()): PartialDate {
  return { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1, day: now.getUTCDate(), precision: 'day' };
}

export function dateKey(d: PartialDate): number {
  return d.year * 10000 + (d.month ?? 1) * 100 + (d.day ?? 1);
}
