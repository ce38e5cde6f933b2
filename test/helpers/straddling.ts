import { readFileSync, writeFileSync } from 'node:fs';
import type { Citizen } from '../../src/domain/citizen.js';
import { syntheticCitizens } from '../../src/synth/generator.js';

export const CSV_COLUMNS = ['fullName', 'idNumber', 'dateOfBirth', 'gender', 'placeOfOrigin', 'placeOfResidence', 'legacyIdNumber', 'cardIssueDate', 'status', 'cardStatus'] as const;

const quoteCsv = (value: string | undefined) => (value === undefined ? '' : /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** One citizen as a source record: an NDJSON line, or a CSV row whose quoted fields may span lines. */
function sourceText(c: Citizen, format: 'ndjson' | 'csv'): string {
  return format === 'ndjson' ? JSON.stringify(c) : CSV_COLUMNS.map((k) => quoteCsv(c[k])).join(',');
}

/** Offset of the first byte of the first multibyte character, or -1. */
function firstMultibyte(bytes: Buffer): number {
  return bytes.findIndex((b) => b >= 0xc0);
}

/**
 * Writes a source file of about `targetBytes` in which every multiple of `readBytes`
 * falls inside a multibyte letter of a record: blank lines (skipped by the import) are
 * put before the record that crosses a boundary so that its first such letter straddles
 * it. Returns the citizens written, in order.
 */
export function writeStraddlingFile(path: string, opts: { format: 'ndjson' | 'csv'; readBytes: number; targetBytes: number; seed: number; edit?: (c: Citizen, i: number) => Citizen }): Citizen[] {
  const parts: Buffer[] = [];
  let offset = 0;
  if (opts.format === 'csv') {
    parts.push(Buffer.from(CSV_COLUMNS.join(',') + '\n'));
    offset = parts[0].length;
  }
  let boundary = opts.readBytes;
  const written: Citizen[] = [];
  // A record's first multibyte letter lies within this many bytes of its start.
  const reach = 120;
  let i = 0;
  for (const original of syntheticCitizens(opts.seed, 0, Number.MAX_SAFE_INTEGER)) {
    if (offset >= opts.targetBytes) break;
    const c = opts.edit ? opts.edit(original, i++) : original;
    const record = Buffer.from(sourceText(c, opts.format) + '\n');
    const letter = firstMultibyte(record);
    if (letter < 0 || letter >= reach) continue;
    if (offset + record.length + reach >= boundary) {
      // This record crosses the boundary (or leaves too little room for the next to):
      // shift it so that its letter's first byte is the last byte before the boundary.
      const blank = boundary - offset - letter - 1;
      if (blank < 0) throw new Error('record starts too close to the boundary');
      parts.push(Buffer.alloc(blank, '\n'));
      offset += blank;
      boundary += opts.readBytes;
    }
    parts.push(record);
    offset += record.length;
    written.push(c);
  }
  writeFileSync(path, Buffer.concat(parts));
  return written;
}

/** The boundaries of reads of `readBytes` that do not fall inside a multibyte letter (none, for a straddling file). */
export function boundariesBetweenLetters(path: string, readBytes: number): number[] {
  const bytes = readFileSync(path);
  const clean: number[] = [];
  for (let b = readBytes; b < bytes.length; b += readBytes) {
    const continuation = (bytes[b] & 0xc0) === 0x80;
    let start = b;
    while (start > 0 && (bytes[start] & 0xc0) === 0x80) start--;
    const letter = bytes.subarray(start, start + 4).toString('utf8').codePointAt(0)!;
    if (!continuation || !/\p{L}/u.test(String.fromCodePoint(letter))) clean.push(b);
  }
  return clean;
}
