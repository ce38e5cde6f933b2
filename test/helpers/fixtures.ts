import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex, type BuildReport } from '../../src/index/build.js';
import { Secret } from '../../src/index/secret.js';
import { fileSource } from '../../src/index/sources.js';
import { syntheticSource } from '../../src/synth/source.js';

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

/** Builds an index in a fresh temporary directory from a fixture file, the people given, or synthetic people. */
export async function tempIndex(opts: { input?: string; people?: object[]; synthetic?: number; seed?: number } = {}): Promise<TempIndex> {
  const dir = mkdtempSync(join(tmpdir(), 'idv-test-'));
  const secretFile = join(dir, 'secret.hex');
  const secret = Secret.create(secretFile);
  const indexDir = join(dir, 'index');
  const rejectsPath = join(dir, 'rejects.ndjson');
  const input = opts.people ? join(dir, 'people.ndjson') : opts.input;
  if (opts.people) writeFileSync(input!, opts.people.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const source = input ? await fileSource(input) : syntheticSource(opts.synthetic ?? 1000, opts.seed ?? 1);
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

interface FixturePerson {
  idNumber: string;
  fullName: string;
  dateOfBirth: string;
}

const fixturePeople = new Map<string, FixturePerson>(
  readFileSync(fixture('citizens.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FixturePerson)
    .map((p) => [p.idNumber, p]),
);

/** A register date as a claim states it: one held as a year or a month is claimed as a day in it (the 15th, or 15 June). */
export const fullDateOf = (date: string) => (date.length === 10 ? date : date.length === 7 ? `${date}-15` : `${date}-06-15`);

/** The least a verification must state about a person of citizens.ndjson: ID number, full name and full date of birth. */
export function claimOf(idNumber: string): { idNumber: string; fullName: string; dateOfBirth: string } {
  const person = fixturePeople.get(idNumber);
  if (!person) throw new Error(`no person ${idNumber} in citizens.ndjson`);
  return { idNumber, fullName: person.fullName, dateOfBirth: fullDateOf(person.dateOfBirth) };
}
