import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex, type BuildReport } from '../../src/index/build.js';
import { Secret } from '../../src/index/secret.js';
import { fileSource, syntheticSource } from '../../src/index/sources.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const fixture = (name: string) => join(FIXTURES, name);

export interface TempIndex {
  dir: string;
  indexDir: string;
  secretFile: string;
  secret: Secret;
  report: BuildReport;
  rejects: () => { line: number; reason: string }[];
  remove: () => void;
}

/** Builds an index in a fresh temporary directory from a fixture file and, optionally, synthetic people. */
export async function tempIndex(opts: { input?: string; synthetic?: number; seed?: number } = {}): Promise<TempIndex> {
  const dir = mkdtempSync(join(tmpdir(), 'idv-test-'));
  const secretFile = join(dir, 'secret.hex');
  const secret = Secret.create(secretFile);
  const indexDir = join(dir, 'index');
  const rejectsPath = join(dir, 'rejects.ndjson');
  const source = opts.input ? await fileSource(opts.input) : syntheticSource(opts.synthetic ?? 1000, opts.seed ?? 1);
  const report = await buildIndex({ indexDir, secret, source, rejectsPath, threads: 1, buckets: 4 });
  return {
    dir,
    indexDir,
    secretFile,
    secret,
    report,
    rejects: () =>
      readFileSync(rejectsPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
