import type { Citizen } from '../../src/domain/citizen.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import type { TempIndex } from '../helpers/fixtures.js';
import { call, KEYS } from '../helpers/server.js';

export interface SentBatch {
  idempotencyKey: string;
  changes: object[];
}

/** Batches of changes about people of the index: renames, card events and deaths, `size` each. */
export function batchesFor(index: TempIndex, count: number, size: number, prefix: string): SentBatch[] {
  const reader = IndexReader.openBuild(currentBuildDir(index.indexDir)!, index.secret);
  const people: Citizen[] = reader.sample(count * size, (() => {
    let s = 3;
    return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  })());
  void reader.close();
  return Array.from({ length: count }, (_, b) => ({
    idempotencyKey: `${prefix}-${b}`,
    changes: people.slice(b * size, (b + 1) * size).map((p, i) =>
      i % 3 === 0 ? { op: 'rename', idNumber: p.idNumber, fullName: `${p.fullName.split(' ')[0]} Văn Đổi` } : i % 3 === 1 ? { op: 'reissueCard', idNumber: p.idNumber, cardIssueDate: '2026-11-02' } : { op: 'revokeCard', idNumber: p.idNumber },
    ),
  }));
}

/** The whole change log of a server, page by page. */
export async function wholeLog(url: string): Promise<{ seq: number; batch: string; idNumber: string; record: Citizen | null }[]> {
  const log = [];
  for (let after = 0; ; ) {
    const page = (await call(url, `/v1/changes?after=${after}&limit=1000`, { key: KEYS.registrar })).body;
    if (!page.changes?.length) return log;
    log.push(...page.changes);
    after = page.next;
  }
}

/**
 * What must hold of a log after any fault: sequence numbers 1..N with none missing, every
 * batch in it whole (all its changes, one after another), every acknowledged batch in it
 * at the numbers it was told. Returns what it checked, to print.
 */
export function checkLog(log: Awaited<ReturnType<typeof wholeLog>>, sent: SentBatch[], acknowledged: Map<string, { firstSequence: number; lastSequence: number }>): string {
  const seqs = log.map((c) => c.seq);
  if (seqs.some((s, i) => s !== i + 1)) throw new Error('sequence numbers are not 1..N');
  const byBatch = new Map<string, number[]>();
  for (const c of log) byBatch.set(c.batch, [...(byBatch.get(c.batch) ?? []), c.seq]);
  for (const [key, numbers] of byBatch) {
    const batch = sent.find((b) => b.idempotencyKey === key);
    if (!batch) throw new Error(`batch ${key} in the log was never sent`);
    if (numbers.length !== batch.changes.length) throw new Error(`batch ${key} is in the log ${numbers.length} times of ${batch.changes.length}: half applied or applied twice`);
    if (numbers.at(-1)! - numbers[0] !== numbers.length - 1) throw new Error(`batch ${key} is not contiguous`);
  }
  for (const [key, answer] of acknowledged) {
    const numbers = byBatch.get(key);
    if (!numbers) throw new Error(`acknowledged batch ${key} is lost`);
    if (numbers[0] !== answer.firstSequence || numbers.at(-1) !== answer.lastSequence) throw new Error(`acknowledged batch ${key} is at other sequence numbers`);
  }
  return `${log.length} changes numbered 1..${log.length}; ${byBatch.size} batches in the log, each whole; all ${acknowledged.size} acknowledged batches present at the numbers they were told; ${sent.length - byBatch.size} sent batches not applied`;
}
