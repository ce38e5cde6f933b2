import { existsSync, readFileSync } from 'node:fs';
import { Piscina } from 'piscina';
import type { Citizen } from '../domain/citizen.js';
import { allThreadsStarted, inOrder, workerPath } from '../workers.js';
import { sourceRecords, type IngestWork, type SourceRecord } from './ingest.js';
import { openDbs, readMeta } from './layout.js';
import type { IndexReader } from './reader.js';
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

export type CheckTask = IngestWork & { currentYear: number };
export interface CheckResult {
  same: number;
  rejectedAtBuild: number;
  differences: Difference[];
}

function rejectedLines(path: string | undefined): number[] {
  if (!path || !existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { line: number }).line);
}

function differingFields(stored: Citizen, source: Citizen): (keyof Citizen)[] {
  const keys = new Set([...Object.keys(stored), ...Object.keys(source)] as (keyof Citizen)[]);
  return [...keys].filter((k) => stored[k] !== source[k]);
}

function compare(reader: IndexReader, record: SourceRecord): Difference | undefined {
  if ('error' in record) return { line: record.line, problem: 'invalid, yet not in the rejects file' };
  const stored = reader.byId(record.citizen.idNumber);
  if (!stored) return { line: record.line, problem: 'missing' };
  const fields = differingFields(stored, record.citizen);
  return fields.length ? { line: record.line, problem: 'differs', fields } : undefined;
}

/** Compares each record of a piece of the source with the build, field by field as exact strings (on a worker). */
export function compareWork(reader: IndexReader, task: CheckTask, rejected: Set<number>): CheckResult {
  const out: CheckResult = { same: 0, rejectedAtBuild: 0, differences: [] };
  for (const record of sourceRecords(task, task.currentYear)) {
    if (rejected.has(record.line)) {
      out.rejectedAtBuild++;
      continue;
    }
    const difference = compare(reader, record);
    if (difference) out.differences.push(difference);
    else out.same++;
  }
  return out;
}

/**
 * Re-reads a source file and compares every record with what the served build holds.
 * Lines the build rejected (its rejects file) are expected absent; every other
 * difference is reported through `onDifference`, in source order.
 */
export async function checkIndex(opts: {
  indexDir: string;
  secret: Secret;
  input: string;
  rejectsFile?: string;
  readBytes?: number;
  threads?: number;
  onDifference: (d: Difference) => void;
}): Promise<CheckReport> {
  const registration = ReaderRegistration.register(opts.indexDir);
  try {
    const dbs = openDbs(registration.buildPath, 'read');
    const meta = readMeta(dbs);
    await dbs.env.close();
    const threads = opts.threads ?? 2;
    const pool = new Piscina({
      filename: workerPath('check'),
      minThreads: threads,
      maxThreads: threads,
      workerData: { buildPath: registration.buildPath, secretHex: opts.secret.hex, rejectedLines: rejectedLines(opts.rejectsFile ?? meta.rejectsFile) },
    });
    try {
      await allThreadsStarted(pool, threads);
      const source = await fileSource(opts.input, { readBytes: opts.readBytes });
      const currentYear = new Date().getUTCFullYear();
      async function* tasks(): AsyncGenerator<CheckTask> {
        for await (const work of source.work) yield { ...work, currentYear };
      }
      const report = { same: 0, rejectedAtBuild: 0, differences: 0 };
      for await (const { result } of inOrder<CheckTask, CheckResult>(pool, tasks(), threads * 2)) {
        report.same += result.same;
        report.rejectedAtBuild += result.rejectedAtBuild;
        report.differences += result.differences.length;
        result.differences.forEach(opts.onDifference);
      }
      const summary = source.summary!();
      return { ...report, sourceRecords: summary.records, sameSourceAsBuild: summary.sha256 === meta.sourceSha256 };
    } finally {
      await pool.destroy();
    }
  } finally {
    registration.release();
  }
}
