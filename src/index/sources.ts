import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { countNewlines, csvHeader, type IngestWork } from './ingest.js';
import type { RecordSource, SourceSummary } from './build.js';

const BATCH_RECORDS = 4096;
const BATCH_TEXT = 1 << 20;
// A quoted field this long means the file's quoting is broken: stop rather than read on.
const MAX_OPEN_QUOTE = 64 << 20;
// Measured on generated data, used only for progress: a citizen is about 260 bytes of
// NDJSON and 110 of CSV.
const TYPICAL_RECORD_BYTES = { ndjson: 260, csv: 110 };
const BOM = '\uFEFF';

export interface FileSourceOptions {
  /** Bytes per read (default 1 MiB). Tests make it small so letters straddle reads. */
  readBytes?: number;
}

/**
 * The file's bytes as read, hashed and counted on the way: the digest is of exactly
 * what was imported.
 */
class HashedFile {
  private readonly hash = createHash('sha256');
  bytes = 0;
  records = 0;

  constructor(
    readonly path: string,
    private readonly readBytes: number,
  ) {}

  async *chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(this.path, { highWaterMark: this.readBytes })) {
      this.hash.update(chunk as Buffer);
      this.bytes += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }

  summary(): SourceSummary {
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, records: this.records };
  }
}

/**
 * NDJSON lines in batches, with 1-based line numbers. The decoder carries a letter
 * whose bytes straddle two reads over to the next, so text is never cut mid-letter.
 */
async function* ndjsonWork(file: HashedFile): AsyncGenerator<IngestWork> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNumber = 0;
  let batch: string[] = [];
  let firstLine = 1;
  const take = (line: string) => {
    lineNumber++;
    if (lineNumber === 1 && line.startsWith(BOM)) line = line.slice(1);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (batch.length === 0) firstLine = lineNumber;
    if (line.trim() !== '') file.records++;
    batch.push(line);
  };
  for await (const chunk of file.chunks()) {
    const lines = (carry + decoder.write(chunk)).split('\n');
    carry = lines.pop()!;
    for (const line of lines) take(line);
    if (batch.length >= BATCH_RECORDS) {
      yield { kind: 'lines', firstLine, lines: batch };
      batch = [];
    }
  }
  carry += decoder.end();
  if (carry !== '') take(carry);
  if (batch.length) yield { kind: 'lines', firstLine, lines: batch };
}

/**
 * The record ends of CSV text, found as csv-parse will find them: a quote opens a
 * quoted field only at the start of a field, and inside one a doubled quote is a quote
 * and a single one closes it; a newline outside quoted fields ends a record. Returns
 * where the first and the last complete record end (just past the newline; 0 when none
 * does) and how many of those records are not blank.
 */
export function scanCsvRecords(text: string): { firstEnd: number; lastEnd: number; records: number } {
  let firstEnd = 0;
  let lastEnd = 0;
  let records = 0;
  for (let i = 0; ; ) {
    let open = text.indexOf('"', i);
    while (open > 0 && text[open - 1] !== ',' && text[open - 1] !== '\n') open = text.indexOf('"', open + 1);
    const spanEnd = open < 0 ? text.length : open;
    for (let nl = text.indexOf('\n', i); nl >= 0 && nl < spanEnd; nl = text.indexOf('\n', nl + 1)) {
      const blank = nl === lastEnd || (nl === lastEnd + 1 && text[lastEnd] === '\r');
      if (!blank) records++;
      lastEnd = nl + 1;
      firstEnd ||= lastEnd;
    }
    if (open < 0) return { firstEnd, lastEnd, records };
    let close = text.indexOf('"', open + 1);
    while (close >= 0 && text[close + 1] === '"') close = text.indexOf('"', close + 2);
    // Unclosed here, or closed by the text's last character (the next read may double it).
    if (close < 0 || close === text.length - 1) return { firstEnd, lastEnd, records };
    i = close + 1;
  }
}

/**
 * CSV text cut at record ends into pieces of about 1 MiB, after a header row naming
 * the fields. The workers parse each piece with csv-parse (quoted fields may hold
 * commas, quotes and newlines); cutting here costs the reader only a scan for quotes
 * and newlines.
 */
async function* csvWork(file: HashedFile): AsyncGenerator<IngestWork> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let columns: string[] | undefined;
  let firstLine = 1;
  const take = (end: number): string => {
    const text = pending.slice(0, end);
    pending = pending.slice(end);
    firstLine += countNewlines(text);
    return text;
  };
  const piece = (end: number, records: number): IngestWork => {
    const line = firstLine;
    file.records += records;
    return { kind: 'csv', columns: columns!, firstLine: line, text: take(end) };
  };
  let first = true;
  for await (const chunk of file.chunks()) {
    pending += decoder.write(chunk);
    if (first && pending !== '') {
      first = false;
      if (pending.startsWith(BOM)) pending = pending.slice(1);
    }
    if (!columns) {
      const { firstEnd } = scanCsvRecords(pending);
      if (firstEnd === 0) continue;
      columns = csvHeader(take(firstEnd));
    }
    if (pending.length < BATCH_TEXT) continue;
    const { lastEnd, records } = scanCsvRecords(pending);
    if (lastEnd > 0) yield piece(lastEnd, records);
    else if (pending.length > MAX_OPEN_QUOTE) throw new Error(`CSV quoting is broken: a quoted field opened on line ${firstLine} runs over ${MAX_OPEN_QUOTE >> 20} MiB`);
  }
  pending += decoder.end();
  if (!columns) {
    const { firstEnd } = scanCsvRecords(pending + '\n');
    columns = csvHeader(take(Math.min(firstEnd, pending.length)));
  }
  const rest = scanCsvRecords(pending + '\n');
  // A last record left open by a broken quote is still a record: the parser rejects it.
  const unclosed = rest.lastEnd <= pending.length && pending.slice(rest.lastEnd).trim() !== '' ? 1 : 0;
  if (rest.records + unclosed > 0) yield piece(pending.length, rest.records + unclosed);
}

async function looksLikeCsv(path: string): Promise<boolean> {
  if (path.endsWith('.csv')) return true;
  if (/\.(nd)?jsonl?$/.test(path)) return false;
  const decoder = new StringDecoder('utf8');
  for await (const chunk of createReadStream(path, { end: 64 * 1024 - 1 })) {
    const text = decoder.write(chunk as Buffer).replace(/^\uFEFF/, '').trimStart();
    if (text !== '') return !text.startsWith('{');
  }
  return false;
}

/** A source file: CSV when it ends in .csv or does not start with a JSON object, else NDJSON. */
export async function fileSource(path: string, opts: FileSourceOptions = {}): Promise<RecordSource> {
  const file = new HashedFile(path, opts.readBytes ?? 1 << 20);
  const csv = await looksLikeCsv(path);
  return {
    description: `file ${path.split('/').pop()}`,
    expected: Math.round(statSync(path).size / TYPICAL_RECORD_BYTES[csv ? 'csv' : 'ndjson']),
    work: csv ? csvWork(file) : ndjsonWork(file),
    summary: () => file.summary(),
  };
}

