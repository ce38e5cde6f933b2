import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import type { Citizen } from '../../src/domain/citizen.js';
import { currentBuildDir, openWritable } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import { syntheticCitizens } from '../../src/synth/generator.js';
import { idv, startCli } from './cli.js';
import type { TempIndex } from './fixtures.js';
import { call, KEYS } from './server.js';

export type Instance = Awaited<ReturnType<typeof startCli>>;

/** `idv serve` of an index over the change stream, in a process of its own (so that it can be killed). */
export function serveInstance(index: Pick<TempIndex, 'indexDir' | 'secretFile'>, clientsFile: string, nats: string, ...args: string[]): Promise<Instance> {
  return startCli('serve', ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', clientsFile, '--threads', '1', '--nats', nats, '--shed-delay', '60000', ...args]);
}

/** A replica's index directory: a snapshot of the primary's served build, taken while it serves. */
export function snapshotOf(primary: TempIndex, name: string): Pick<TempIndex, 'indexDir' | 'secretFile'> {
  const indexDir = join(primary.dir, name);
  const run = idv('snapshot', '--index', primary.indexDir, '--out', indexDir, '--secret-file', primary.secretFile);
  expect(run.status, run.stderr).toBe(0);
  return { indexDir, secretFile: primary.secretFile };
}

export type Change = Record<string, unknown>;

const GIVEN = ['An', 'Bình', 'Cường', 'Dũng', 'Hà', 'Khánh', 'Lan', 'Minh', 'Ngọc', 'Phúc', 'Quân', 'Thảo'];

/**
 * `n` changes of every kind that moves a record or its lookup keys: births (new people),
 * renames, deaths and deletions of people on record (each person changed once: a third of
 * them each at most, so n / 10 must not exceed a third), in a fixed order for a seed.
 */
export function mixedChanges(onRecord: Citizen[], n: number, seed: number): Change[] {
  const third = Math.floor(onRecord.length / 3);
  if (n / 10 > third) throw new Error(`${n} changes need ${Math.ceil((n / 10) * 3)} people on record`);
  const births = syntheticCitizens(seed, 0, n);
  const changes: Change[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / 10);
    const kind = i % 10;
    if (kind < 7) changes.push({ op: 'upsert', record: births.next().value as Citizen });
    else if (kind === 7) changes.push({ op: 'rename', idNumber: onRecord[k].idNumber, fullName: `${onRecord[k].fullName.split(' ')[0]} Văn ${GIVEN[k % GIVEN.length]}` });
    else if (kind === 8) changes.push({ op: 'deceased', idNumber: onRecord[third + k].idNumber });
    else changes.push({ op: 'delete', idNumber: onRecord[2 * third + k].idNumber });
  }
  return changes;
}

export function citizensOf(index: Pick<TempIndex, 'indexDir' | 'secret'>): Citizen[] {
  const reader = IndexReader.openBuild(currentBuildDir(index.indexDir)!, index.secret);
  try {
    return [...reader.citizens()];
  } finally {
    void reader.close();
  }
}

/** Sends changes to POST /v1/records in batches; answers each batch's last sequence. */
export async function postChanges(url: string, changes: Change[], size: number, keyPrefix: string): Promise<number[]> {
  const last: number[] = [];
  for (let i = 0; i < changes.length; i += size) {
    const reply = await call(url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: `${keyPrefix}-${i}`, changes: changes.slice(i, i + size) } });
    expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).toBe(200);
    last.push((reply.body as { lastSequence: number }).lastSequence);
  }
  return last;
}

/** `idv apply --input` of changes written as a file, into a served index directory. */
export function applyFile(indexDir: string, secretFile: string, changes: Change[], path: string): void {
  writeFileSync(path, changes.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const run = idv('apply', '--index', indexDir, '--secret-file', secretFile, '--input', path, '--batch', '5000');
  expect(run.status, run.stderr).toBe(0);
}

export interface Ready {
  status: string;
  reason?: string;
  role: string;
  build: string;
  sequence: number;
  records: number;
  lag?: { changes: number; seconds: number };
}

export async function readyz(url: string): Promise<Ready> {
  return (await call(url, '/readyz')).body as Ready;
}

/** Waits until an instance has applied change `sequence`; answers how long it took. */
export async function reaches(url: string, sequence: number, timeout: number): Promise<number> {
  const started = performance.now();
  await vi.waitFor(async () => expect((await readyz(url)).sequence).toBeGreaterThanOrEqual(sequence), { timeout, interval: 10 });
  return performance.now() - started;
}

/**
 * Every stored entry of a build, as bytes: records (sealed), the name and legacy lookup
 * keys, the change log and the batches' answers. Two instances that applied the same
 * changes in the same order hold the same bytes (a record is sealed under its change's
 * sequence number), so this compares record by record and lookup by lookup.
 */
export async function storedEntries(indexDir: string): Promise<Record<string, string[]>> {
  const dbs = openWritable(currentBuildDir(indexDir)!);
  try {
    const out: Record<string, string[]> = {};
    for (const name of ['records', 'byName', 'byLegacy', 'changes', 'applied'] as const) {
      out[name] = [...dbs[name].getRange()].map(({ key, value }) => `${Buffer.from(key as Uint8Array).toString('hex')}=${Buffer.isBuffer(value) ? value.toString('hex') : JSON.stringify(value)}`);
    }
    return out;
  } finally {
    await dbs.env.close();
  }
}
