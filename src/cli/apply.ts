import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { currentBuildDir } from '../index/layout.js';
import { Secret } from '../index/secret.js';
import { readBatch, type Change } from '../register/changes.js';
import { RegisterWriter, type LoggedChange } from '../register/writer.js';
import { positiveInt, UsageError } from './args.js';
import { secretPath } from './secretPath.js';
import { readIdentity } from '../replication/identity.js';

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
 * /v1/records). It is read a window at a time (1,000,000 changes by default); a window
 * is checked whole, put in the order of the citizens' record keys (a citizen's own
 * changes keep the file's order) and applied in batches (10,000 by default), each durable
 * before the next. In key order a batch shares LMDB pages that random citizens would not
 * (measured at 10,000,000 citizens: 1.9x the rate of file order); fewer, larger commits
 * go faster too. A batch's idempotency key is the file's digest and the batch's number,
 * so running the same file again applies nothing twice. A malformed change stops the run
 * before its window, a change that cannot apply at its batch, naming their lines; the
 * batches before stay applied.
 * `idv apply --log FILE`: a replica's catch-up, from another index's change log
 * (GET /v1/changes pages, one logged change a line), in the log's order.
 */
/** `apply`'s defaults (program.ts shows them in its help): a commit flushes to disk, and fewer of them go faster; a window is sorted in memory. */
export const APPLY_BATCH = 10_000;
export const APPLY_WINDOW = 1_000_000;

export async function apply(f: { index: string; input?: string; log?: string; batch: string; window: string; secretFile?: string }): Promise<void> {
  if ((f.input === undefined) === (f.log === undefined)) throw new UsageError('give one of --input FILE or --log FILE');
  const size = positiveInt('batch', f.batch);
  if (size < 1 || size > 100_000) throw new UsageError('--batch takes 1 to 100000 changes');
  const window = positiveInt('window', f.window);
  if (window < size) throw new UsageError('--window must hold at least one --batch');
  const indexDir = resolve(f.index);
  const buildPath = currentBuildDir(indexDir);
  if (!buildPath) throw new Error(`no index at ${indexDir} (build one with: idv build)`);
  const writer = RegisterWriter.open(buildPath, Secret.load(secretPath(f.secretFile, indexDir)));
  const follows = writer.streamPosition;
  if (f.input && follows && follows.primary !== readIdentity(indexDir)?.primary) {
    await writer.close();
    throw new Error(`${indexDir} is a replica: it follows primary ${follows.primary} through the change stream; apply the changes at the primary`);
  }
  const started = performance.now();
  const done = { applied: 0, replayed: 0 };
  try {
    if (f.log) {
      for await (const { values } of linesOf(resolve(f.log), size)) done.applied += writer.replay(values as LoggedChange[]).applied;
    } else {
      await applyFile(writer, resolve(f.input!), size, window, done);
    }
  } finally {
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ applied: done.applied, alreadyApplied: done.replayed, lastSequence: writer.lastSequence, records: writer.records, seconds: +seconds.toFixed(2), changesPerSecond: Math.round(done.applied / seconds) }) + '\n');
    await writer.close();
  }
}

type Numbered = { change: Change; line: number };

async function applyFile(writer: RegisterWriter, path: string, size: number, window: number, done: { applied: number; replayed: number }): Promise<void> {
  const digest = (await fileDigest(path)).slice(0, 32);
  let number = 0;
  for await (const { values, lines } of linesOf(path, window)) {
    const read = readBatch({ idempotencyKey: 'window', changes: values }, window);
    if ('envelope' in read) throw new Error(read.envelope);
    if ('errors' in read) throw new Error(read.errors.map((e) => `line ${lines[e.index]}: ${e.message}`).join('; '));
    const ordered = writer.inKeyOrder(
      read.batch.changes.map((change, i): Numbered => ({ change, line: lines[i] })),
      ({ change }) => (change.op === 'upsert' ? change.record.idNumber : change.idNumber),
    );
    for (let start = 0; start < ordered.length; start += size) {
      const batch = ordered.slice(start, start + size);
      number++;
      try {
        const { answer, replayed } = writer.apply(APPLY_CLIENT, { idempotencyKey: `file:${digest}:${number}`, changes: batch.map((b) => b.change) });
        done[replayed ? 'replayed' : 'applied'] += answer.applied;
      } catch (err) {
        const items = (err as { items?: { index: number; message: string }[] }).items;
        if (items) throw new Error(items.map((e) => `line ${batch[e.index].line}: ${e.message}`).join('; '));
        if ((err as { code?: string }).code === 'IDEMPOTENCY_CONFLICT') {
          throw new Error(`batch ${number} differs from the batch of that number applied from this file before: it was applied with another --batch or --window; run it again with those`);
        }
        throw err;
      }
    }
  }
}
