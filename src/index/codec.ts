import { Packr } from 'msgpackr';
import type { Citizen } from '../domain/citizen.js';
import type { Dictionary } from './dictionary.js';

/**
 * On-disk value of a citizen: a msgpack array in a fixed slot order. Changing a slot's
 * order or meaning is a format change: bump FORMAT_VERSION, which makes older indexes
 * refuse to open.
 *
 *   0 idNumber      integer (12 digits fit in 40 bits)
 *   1 fullName      array of words: a dictionary code (integer) or the word itself
 *   2 dateOfBirth   integer YYYYMMDD, with 00 for a month or day not registered
 *   3 flags         bit 0 female, bit 1 deceased, bit 2 card revoked
 *   4 placeOfOrigin / 5 placeOfResidence   dictionary code or text, or nil
 *   6 legacyIdNumber   integer for 9 digits (zero-padded back), text for 12, or nil
 *   7 cardIssueDate    integer YYYYMMDD, or nil
 * Trailing nils are dropped. About 35 bytes for a typical citizen, stored sealed
 * (sealing.ts: 17 bytes more).
 *
 * Format 3: values and the dictionary sealed with XChaCha20-Poly1305.
 * Format 4: a name posting is a keyed tag of the person's name and gender, then the
 * record key, so a search opens one person per name of a block.
 * Format 5: a name posting carries the person, sealed (postings.ts): a search opens no record.
 */
export const FORMAT_VERSION = 5;

const FLAG_FEMALE = 1;
const FLAG_DECEASED = 2;
const FLAG_REVOKED = 4;

type Word = number | string;
type Slots = [number, Word[], number, number, Word?, Word?, Word?, number?];

const packr = new Packr({ useRecords: false });

function dateToInt(date: string): number {
  // "1990-05-17" → 19900517, "1990-05" → 19900500, "1950" → 19500000
  return Number(date.slice(0, 4)) * 10_000 + (date.length >= 7 ? Number(date.slice(5, 7)) * 100 : 0) + (date.length === 10 ? Number(date.slice(8, 10)) : 0);
}

function intToDate(n: number): string {
  const year = Math.floor(n / 10_000);
  const month = Math.floor(n / 100) % 100;
  const day = n % 100;
  const pad = (x: number) => String(x).padStart(2, '0');
  return month === 0 ? String(year) : day === 0 ? `${year}-${pad(month)}` : `${year}-${pad(month)}-${pad(day)}`;
}

export class RecordCodec {
  constructor(private readonly dictionary: Dictionary) {}

  encode(c: Citizen): Buffer {
    const d = this.dictionary;
    const flags = (c.gender === 'female' ? FLAG_FEMALE : 0) | (c.status === 'deceased' ? FLAG_DECEASED : 0) | (c.cardStatus === 'revoked' ? FLAG_REVOKED : 0);
    const place = (p?: string) => (p === undefined ? null : (d.placeCode(p) ?? p));
    const legacy = c.legacyIdNumber === undefined ? null : c.legacyIdNumber.length === 9 ? Number(c.legacyIdNumber) : c.legacyIdNumber;
    const slots: (Word | Word[] | null)[] = [
      Number(c.idNumber),
      c.fullName.split(' ').map((w) => d.wordCode(w) ?? w),
      dateToInt(c.dateOfBirth),
      flags,
      place(c.placeOfOrigin),
      place(c.placeOfResidence),
      legacy,
      c.cardIssueDate === undefined ? null : dateToInt(c.cardIssueDate),
    ];
    while (slots[slots.length - 1] === null) slots.pop();
    return packr.pack(slots);
  }

  decode(bytes: Uint8Array): Citizen {
    const d = this.dictionary;
    const s = packr.unpack(bytes) as Slots;
    const flags = s[3];
    const c: Citizen = {
      idNumber: String(s[0]).padStart(12, '0'),
      fullName: s[1].map((w) => (typeof w === 'number' ? d.word(w) : w)).join(' '),
      dateOfBirth: intToDate(s[2]),
      gender: flags & FLAG_FEMALE ? 'female' : 'male',
      status: flags & FLAG_DECEASED ? 'deceased' : 'alive',
      cardStatus: flags & FLAG_REVOKED ? 'revoked' : 'valid',
    };
    const place = (p: Word) => (typeof p === 'number' ? d.place(p) : p);
    if (s[4] != null) c.placeOfOrigin = place(s[4]);
    if (s[5] != null) c.placeOfResidence = place(s[5]);
    if (s[6] != null) c.legacyIdNumber = typeof s[6] === 'number' ? String(s[6]).padStart(9, '0') : s[6];
    if (s[7] != null) c.cardIssueDate = intToDate(s[7]);
    return c;
  }
}
