/** A date as registered or claimed: full ("1990-05-17"), month ("1990-05") or year only ("1950"). */
export type Precision = 'day' | 'month' | 'year';

export interface PartialDate {
  year: number;
  month?: number;
  day?: number;
  precision: Precision;
}

const PARTIAL_DATE = /^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function parsePartialDate(text: string): PartialDate | undefined {
  const m = PARTIAL_DATE.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1900) return undefined;
  if (m[2] === undefined) return { year, precision: 'year' };
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  if (m[3] === undefined) return { year, month, precision: 'month' };
  const day = Number(m[3]);
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
