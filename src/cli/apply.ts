import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { currentBuildDir } from '../index/layout.js';
import { Secret } from '../index/secret.js';
import { readBatch } from '../register/changes.js';
import { RegisterWriter, type LoggedChange } from '../register/writer.js';
import { flags, positiveInt, UsageError } from './args.js';
import { secretPath } from './secretPath.js';

/** The client name `idv apply` records its batches under (the change log's `client`). */
export const APPLY_CLIENT = 'idv-apply';

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** The file's non-blank lines, parsed, `size` at a time, with the line number of each. */
async function* linesOf(path: string, size: number): AsyncGenerator<{ values: unknown[]; lines: number[] }> {
  let values: unknown[] = [];
  let lines: number[] = [];
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      throw new Error(`line ${n}: not valid JSON`);
    }
    lines.push(n);
    if (values.length === size) {
      yield { values, lines };
      values = [];
      lines = [];
    }
  }
  if (values.length) yield { values, lines };
}

/**
 * `idv apply --input FILE`: a file of changes (one JSON change a line, as in POST
 * /v1/records) applied in batches (10,000 by default: a commit flushes to disk, and fewer
 * of them go faster), each durable before the next. A batch's idempotency key
 * is the file's digest and the batch's number, so running the same file again applies
 * nothing twice. A bad change stops the run at its batch, naming its line; the batches
 * before it stay applied.
 * `idv apply --log FILE`: a replica's catch-up, from another index's change log
 * (GET /v1/changes pages, one logged change a line).
 */
export async function apply(argv: string[]): Promise<void> {
  const f = flags(argv, { index: { type: 'string' }, input: { type: 'string' }, log: { type: 'string' }, 'secret-file': { type: 'string' }, batch: { type: 'string' } });
  if (!f.index || (f.input === undefined) === (f.log === undefined)) throw new UsageError('--index DIR and one of --input FILE or --log FILE are required');
  const size = positiveInt('batch', f.batch, 10_000);
  if (size < 1 || size > 100_000) throw new UsageError('--batch takes 1 to 100000 changes');
  const indexDir = resolve(f.index);
  const buildPath = currentBuildDir(indexDir);
  if (!buildPath) throw new Error(`no index at ${indexDir} (build one with: idv build)`);
  const writer = RegisterWriter.open(buildPath, Secret.load(secretPath(f['secret-file'], indexDir)));
  const started = performance.now();
  let applied = 0;
  let replayed = 0;
  try {
    if (f.log) {
      for await (const { values } of linesOf(resolve(f.log), size)) applied += writer.replay(values as LoggedChange[]).applied;
    } else {
      const path = resolve(f.input!);
      const digest = (await fileDigest(path)).slice(0, 32);
      let number = 0;
      for await (const { values, lines } of linesOf(path, size)) {
        const read = readBatch({ idempotencyKey: `file:${digest}:${++number}`, changes: values }, size);
        if ('envelope' in read) throw new Error(`batch ${number}: ${read.envelope}`);
        if ('errors' in read) throw new Error(read.errors.map((e) => `line ${lines[e.index]}: ${e.message}`).join('; '));
        try {
          const { answer, replayed: again } = writer.apply(APPLY_CLIENT, read.batch);
          if (again) replayed += answer.applied;
          else applied += answer.applied;
        } catch (err) {
          const items = (err as { items?: { index: number; message: string }[] }).items;
          if (items) throw new Error(items.map((e) => `line ${lines[e.index]}: ${e.message}`).join('; '));
          if ((err as { code?: string }).code === 'IDEMPOTENCY_CONFLICT') {
            throw new Error(`batch ${number} (from line ${lines[0]}) differs from the batch of that number applied from this file before: it was applied with another --batch; run it again with that one`);
          }
          throw err;
        }
      }
    }
  } finally {
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ applied, alreadyApplied: replayed, lastSequence: writer.lastSequence, records: writer.records, seconds: +seconds.toFixed(2), changesPerSecond: Math.round(applied / seconds) }) + '\n');
    await writer.close();
  }
}
