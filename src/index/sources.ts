import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv, type CsvError, type InfoRecord } from 'csv-parse';
import { CHUNK_SIZE } from '../synth/generator.js';
import type { IngestWork } from './ingest.js';
import type { RecordSource, SourceSummary } from './build.js';

const BATCH_RECORDS = 4096;
// Measured on generated data: a citizen line is about 260 bytes; used only for progress.
const TYPICAL_LINE_BYTES = 260;
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

const countNewlines = (cells: string[]) => cells.reduce((n, cell) => n + (cell.split('\n').length - 1), 0);

/**
 * CSV rows (RFC 4180: quoted fields may hold commas, quotes and newlines) after a
 * header row naming the fields. A row the parser cannot read is rejected with its line
 * and the parser's error code (its message may quote the row).
 */
async function* csvWork(file: HashedFile): AsyncGenerator<IngestWork> {
  const failed: { line: number; reason: string }[] = [];
  const parser = Readable.from(file.chunks()).pipe(
    parseCsv({ bom: true, skip_empty_lines: true, relax_column_count: true, skip_records_with_error: true, info: true }),
  );
  parser.on('skip', (err: CsvError) => {
    file.records++;
    failed.push({ line: (err as CsvError & { lines?: number }).lines ?? 0, reason: `unparseable: CSV ${err.code}` });
  });
  let columns: string[] | undefined;
  let rows: string[][] = [];
  let lineNumbers: number[] = [];
  const work = (): IngestWork => {
    const out: IngestWork = { kind: 'rows', columns: columns!, lineNumbers, rows, failed: failed.splice(0) };
    rows = [];
    lineNumbers = [];
    return out;
  };
  for await (const { record: cells, info } of parser as AsyncIterable<{ record: string[]; info: InfoRecord }>) {
    // info.lines is where the row ends; it starts as many lines earlier as its fields hold newlines.
    const line = info.lines - countNewlines(cells);
    if (!columns) {
      columns = cells.map((c) => c.trim());
      continue;
    }
    file.records++;
    rows.push(cells);
    lineNumbers.push(line);
    if (rows.length >= BATCH_RECORDS) yield work();
  }
  if (columns && (rows.length || failed.length)) yield work();
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
    expected: Math.round(statSync(path).size / TYPICAL_LINE_BYTES),
    work: csv ? csvWork(file) : ndjsonWork(file),
    summary: () => file.summary(),
  };
}

// A worker task makes one generator chunk: a chunk can only be made from its start.
const SYNTHETIC_TASK = CHUNK_SIZE;

/** The synthetic population, generated by the ingest workers themselves. */
export function syntheticSource(count: number, seed: number): RecordSource {
  async function* work(): AsyncGenerator<IngestWork> {
    for (let start = 0; start < count; start += SYNTHETIC_TASK) {
      yield { kind: 'synthetic', seed, start, count: Math.min(SYNTHETIC_TASK, count - start) };
    }
  }
  return { description: `synthetic ${count} seed ${seed}`, expected: count, work: work() };
}
