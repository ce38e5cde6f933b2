import { existsSync, readFileSync } from 'node:fs';
import type { Citizen } from '../domain/citizen.js';
import { sourceRecords, type SourceRecord } from './ingest.js';
import { IndexReader } from './reader.js';
import { ReaderRegistration } from './readers.js';
import type { Secret } from './secret.js';
import { fileSource } from './sources.js';

/** One source record the index does not hold as the source has it: line number and field names, never values. */
export interface Difference {
  line: number;
  problem: 'missing' | 'differs' | 'invalid, yet not in the rejects file';
  fields?: (keyof Citizen)[];
}

export interface CheckReport {
  /** Whether the file is, byte for byte, the one the served build was made from. */
  sameSourceAsBuild: boolean;
  sourceRecords: number;
  same: number;
  rejectedAtBuild: number;
  differences: number;
}

function rejectedLines(path: string | undefined): Set<number> {
  if (!path || !existsSync(path)) return new Set();
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  return new Set(lines.map((l) => (JSON.parse(l) as { line: number }).line));
}

function differingFields(stored: Citizen, source: Citizen): (keyof Citizen)[] {
  const keys = new Set([...Object.keys(stored), ...Object.keys(source)] as (keyof Citizen)[]);
  return [...keys].filter((k) => stored[k] !== source[k]);
}

/**
 * Re-reads a source file and compares every record with what the served build holds,
 * field by field, as exact strings. Lines the build rejected (its rejects file) are
 * expected absent; every other difference is reported through `onDifference`.
 */
export async function checkIndex(opts: {
  indexDir: string;
  secret: Secret;
  input: string;
  rejectsFile?: string;
  readBytes?: number;
  onDifference: (d: Difference) => void;
}): Promise<CheckReport> {
  const registration = ReaderRegistration.register(opts.indexDir);
  try {
    const reader = IndexReader.openBuild(registration.buildPath, opts.secret);
    try {
      const rejected = rejectedLines(opts.rejectsFile ?? reader.meta.rejectsFile);
      const source = await fileSource(opts.input, { readBytes: opts.readBytes });
      const report = { same: 0, rejectedAtBuild: 0, differences: 0 };
      const currentYear = new Date().getUTCFullYear();
      for await (const work of source.work) {
        for (const record of sourceRecords(work, currentYear)) {
          const difference = compare(reader, record, rejected.has(record.line));
          if (difference === 'same') report.same++;
          else if (difference === 'rejected') report.rejectedAtBuild++;
          else {
            report.differences++;
            opts.onDifference(difference);
          }
        }
      }
      const summary = source.summary!();
      return { ...report, sourceRecords: summary.records, sameSourceAsBuild: summary.sha256 === reader.meta.sourceSha256 };
    } finally {
      await reader.close();
    }
  } finally {
    registration.release();
  }
}

function compare(reader: IndexReader, record: SourceRecord, rejected: boolean): Difference | 'same' | 'rejected' {
  if (rejected) return 'rejected';
  if ('error' in record) return { line: record.line, problem: 'invalid, yet not in the rejects file' };
  const stored = reader.byId(record.citizen.idNumber);
  if (!stored) return { line: record.line, problem: 'missing' };
  const fields = differingFields(stored, record.citizen);
  return fields.length ? { line: record.line, problem: 'differs', fields } : 'same';
}
