import { parse as parseCsv, type CsvError } from 'csv-parse/sync';
import { checkCitizen, type Citizen } from '../domain/citizen.js';
import { RecordCodec } from './codec.js';
import { RecordSeal } from './sealing.js';
import { Dictionary } from './dictionary.js';
import { ID_KEY_BYTES, LOOKUP_KEY_BYTES, idKeyText, keyHasher, legacyKeyText, nameBlockKey, type KeyHasher } from './keys.js';
import { NAME_POSTING_BYTES, PostingSeal } from './postings.js';

/**
 * Lines of an NDJSON file, a piece of a CSV file cut at record ends (a record can span
 * lines), or a stretch of the synthetic population made by the worker itself.
 */
export type IngestWork =
  | { kind: 'lines'; firstLine: number; lines: string[] }
  | { kind: 'csv'; columns: string[]; firstLine: number; text: string }
  | { kind: 'synthetic'; seed: number; start: number; count: number };

/** Makes the people of a synthetic stretch (the worker passes the generator: the index does not depend on it). */
export type Generate = (seed: number, start: number, count: number) => Iterable<Citizen>;

const NO_GENERATOR: Generate = () => {
  throw new Error('synthetic work needs a generator');
};

/** `saltHex`: the build's salt, which with the secret makes the key its record values are sealed under (sealing.ts). */
export type IngestTask = IngestWork & { secretHex: string; saltHex: string; currentYear: number };

/** One batch made ready for the index: fixed-width keys in typed arrays, cheap to pass between threads. */
export interface IngestResult {
  count: number;
  lineNumbers: Uint32Array;
  idKeys: Uint8Array;
  nameKeys: Uint8Array;
  /** Each record's name posting, sealed (postings.ts). */
  namePostings: Uint8Array;
  legacyKeys: Uint8Array;
  hasLegacy: Uint8Array;
  values: Uint8Array;
  valueEnds: Uint32Array;
  rejects: { line: number; reason: string }[];
}

function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    // Not the parser's message: it quotes the line, which may hold personal data.
    throw new Error('not valid JSON');
  }
}

const CSV_OPTIONS = { relax_column_count: true, skip_empty_lines: true } as const;

/** The field names of a CSV header record. */
export function csvHeader(text: string): string[] {
  const [header] = parseCsv(text, CSV_OPTIONS) as string[][];
  if (!header) throw new Error('the CSV file has no header row naming its fields');
  return header.map((c) => c.trim());
}

/** Newlines in a text: the reader counts them to number lines, the workers to find where a CSV row starts. */
export function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Parses a piece of CSV with csv-parse. A record it cannot read is a candidate with
 * its error code as the reason (csv-parse's message may quote the record).
 */
function* csvCandidates(task: Extract<IngestWork, { kind: 'csv' }>): Generator<Candidate> {
  const out: Candidate[] = [];
  const lineOf = (endLine: number, cells: string[] = []) => task.firstLine + endLine - 1 - cells.reduce((n, cell) => n + countNewlines(cell), 0);
  parseCsv(task.text, {
    ...CSV_OPTIONS,
    skip_records_with_error: true,
    on_skip: (err) => {
      out.push({ line: lineOf((err as CsvError & { lines: number }).lines), error: `unparseable: CSV ${err!.code}` });
      return undefined;
    },
    // The context's line is where the record ends; it starts as many lines earlier as its fields hold newlines.
    on_record: (cells: string[], context) => {
      const line = lineOf(context.lines, cells);
      try {
        out.push({ line, raw: rowObject(task.columns, cells) });
      } catch (err) {
        out.push({ line, error: `unparseable: ${(err as Error).message}` });
      }
      return null;
    },
  });
  yield* out;
}

/** A CSV row as the import rules read it: a field named by the header, empty cells left out. */
function rowObject(columns: string[], cells: string[]): Record<string, string> {
  if (cells.length !== columns.length) throw new Error(`expected ${columns.length} CSV fields, found ${cells.length}`);
  const row: Record<string, string> = {};
  columns.forEach((c, i) => {
    if (cells[i] !== '') row[c] = cells[i];
  });
  return row;
}

let cached: { secretHex: string; hash: KeyHasher; postings: PostingSeal } | undefined;
let sealCache: { secretHex: string; saltHex: string; seal: RecordSeal } | undefined;
let codecCache: RecordCodec | undefined;

/** Every build encodes with the standard dictionary; the index stores it for its readers. */
function standardCodec(): RecordCodec {
  return (codecCache ??= new RecordCodec(Dictionary.standard()));
}

function sealFor(secretHex: string, saltHex: string): RecordSeal | undefined {
  if (saltHex === '') return undefined;
  if (sealCache?.secretHex !== secretHex || sealCache.saltHex !== saltHex) {
    sealCache = { secretHex, saltHex, seal: new RecordSeal(Buffer.from(secretHex, 'hex'), Buffer.from(saltHex, 'hex'), ID_KEY_BYTES) };
  }
  return sealCache.seal;
}

function keysFor(secretHex: string): { hash: KeyHasher; postings: PostingSeal } {
  if (cached?.secretHex !== secretHex) {
    const secret = Buffer.from(secretHex, 'hex');
    cached = { secretHex, hash: keyHasher(secret), postings: new PostingSeal(secret, Dictionary.standard()) };
  }
  return cached;
}

type Candidate = { line: number; raw: unknown } | { line: number; error: string } | { line: number; citizen: Citizen };
export type SourceRecord = { line: number; error: string } | { line: number; citizen: Citizen };

/**
 * Source records with their line numbers (1-based): parsed lines, or generated people
 * (line = position + 1). Generated people are valid by construction (the generator's
 * tests check every rule), so they skip the import check.
 */
function* candidates(task: IngestWork, generate: Generate): Generator<Candidate> {
  if (task.kind === 'synthetic') {
    let line = task.start + 1;
    for (const citizen of generate(task.seed, task.start, task.count)) yield { line: line++, citizen };
    return;
  }
  if (task.kind === 'csv') {
    yield* csvCandidates(task);
    return;
  }
  for (let i = 0; i < task.lines.length; i++) {
    const line = task.lines[i];
    if (line.trim() !== '') yield parsed(task.firstLine + i, () => parseJsonLine(line));
  }
}

function parsed(line: number, parse: () => unknown): Candidate {
  try {
    return { line, raw: parse() };
  } catch (err) {
    return { line, error: `unparseable: ${(err as Error).message}` };
  }
}

/** Each record of a piece of work as the import rules take it: a citizen, or why it is rejected. Blank lines are skipped. */
export function* sourceRecords(work: IngestWork, currentYear: number, generate: Generate = NO_GENERATOR): Generator<SourceRecord> {
  for (const record of candidates(work, generate)) {
    if (!('raw' in record)) {
      yield record;
      continue;
    }
    const check = checkCitizen(record.raw, currentYear);
    yield check.ok ? { line: record.line, citizen: check.citizen } : { line: record.line, error: check.reason };
  }
}

/** Parses, checks, normalizes and hashes a batch of records. */
export function ingestBatch(task: IngestTask, generate: Generate = NO_GENERATOR): IngestResult {
  const { hash, postings } = keysFor(task.secretHex);
  const seal = sealFor(task.secretHex, task.saltHex);
  const codec = standardCodec();
  // A CSV piece is parsed whole before its records are counted; lines and generated people stream.
  const parsed = task.kind === 'csv' ? [...sourceRecords(task, task.currentYear, generate)] : undefined;
  const n = parsed ? parsed.length : task.kind === 'lines' ? task.lines.length : task.kind === 'synthetic' ? task.count : 0;
  const records = parsed ?? sourceRecords(task, task.currentYear, generate);
  const out: IngestResult = {
    count: 0,
    lineNumbers: new Uint32Array(n),
    idKeys: new Uint8Array(n * ID_KEY_BYTES),
    nameKeys: new Uint8Array(n * LOOKUP_KEY_BYTES),
    namePostings: new Uint8Array(n * NAME_POSTING_BYTES),
    legacyKeys: new Uint8Array(n * LOOKUP_KEY_BYTES),
    hasLegacy: new Uint8Array(n),
    values: new Uint8Array(0),
    valueEnds: new Uint32Array(n),
    rejects: [],
  };
  const values: Buffer[] = [];
  let valueBytes = 0;
  for (const record of records) {
    if ('error' in record) {
      out.rejects.push({ line: record.line, reason: record.error });
      continue;
    }
    const c = record.citizen;
    const k = out.count++;
    out.lineNumbers[k] = record.line;
    const idKey = hash(idKeyText(c.idNumber), ID_KEY_BYTES);
    out.idKeys.set(idKey, k * ID_KEY_BYTES);
    const blockKey = nameBlockKey(hash, c);
    out.nameKeys.set(blockKey, k * LOOKUP_KEY_BYTES);
    out.namePostings.set(postings.seal(blockKey, c), k * NAME_POSTING_BYTES);
    if (c.legacyIdNumber) {
      out.hasLegacy[k] = 1;
      out.legacyKeys.set(hash(legacyKeyText(c.legacyIdNumber), LOOKUP_KEY_BYTES), k * LOOKUP_KEY_BYTES);
    }
    // Sealed from the packer's reused buffer into a value of its own.
    const value = seal ? seal.seal(idKey, codec.encode(c)) : Buffer.from(codec.encode(c));
    values.push(value);
    valueBytes += value.length;
    out.valueEnds[k] = valueBytes;
  }
  out.values = Buffer.concat(values, valueBytes);
  return out;
}
