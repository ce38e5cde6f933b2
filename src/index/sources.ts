import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { syntheticLines } from '../synth/generator.js';
import { splitCsvLine, type SourceFormat } from './ingest.js';
import type { LineSource } from './build.js';

const BATCH_LINES = 4096;
// Measured on generated data: a citizen line is about 260 bytes; used only for progress.
const TYPICAL_LINE_BYTES = 260;

/** Lines of a file in batches, with their 1-based line numbers and a running SHA-256. */
async function* fileBatches(path: string, hash: ReturnType<typeof createHash>, skipFirst: boolean) {
  let carry = '';
  let lineNumber = 1;
  let batch: string[] = [];
  let firstLine = 1;
  const take = (line: string) => {
    if (skipFirst && lineNumber === 1) {
      lineNumber++;
      firstLine = 2;
      return;
    }
    if (batch.length === 0) firstLine = lineNumber;
    batch.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    lineNumber++;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    const text = carry + (chunk as Buffer).toString('utf8');
    const lines = text.split('\n');
    carry = lines.pop()!;
    for (const line of lines) take(line);
    if (batch.length >= BATCH_LINES) {
      yield { firstLine, lines: batch };
      batch = [];
    }
  }
  if (carry !== '') take(carry);
  if (batch.length) yield { firstLine, lines: batch };
}

async function firstLineOf(path: string): Promise<string> {
  for await (const chunk of createReadStream(path, { end: 64 * 1024 })) {
    return (chunk as Buffer).toString('utf8').split('\n')[0].replace(/\r$/, '').replace(/^\uFEFF/, '');
  }
  return '';
}

/** A source file: CSV when it ends in .csv or its first line is not a JSON object. */
export async function fileSource(path: string): Promise<LineSource> {
  const head = await firstLineOf(path);
  const format: SourceFormat = path.endsWith('.csv') || !head.trimStart().startsWith('{') ? 'csv' : 'ndjson';
  const hash = createHash('sha256');
  const columns = format === 'csv' ? splitCsvLine(head).map((c) => c.trim()) : undefined;
  return {
    format,
    columns,
    description: `file ${path.split('/').pop()}`,
    expected: Math.round(statSync(path).size / TYPICAL_LINE_BYTES),
    batches: fileBatches(path, hash, format === 'csv'),
    digest: () => hash.digest('hex'),
  };
}

export function syntheticSource(count: number, seed: number): LineSource {
  async function* batches() {
    let firstLine = 1;
    for (const lines of syntheticLines(count, seed, BATCH_LINES)) {
      yield { firstLine, lines };
      firstLine += lines.length;
    }
  }
  return { format: 'ndjson', description: `synthetic ${count} seed ${seed}`, expected: count, batches: batches() };
}
