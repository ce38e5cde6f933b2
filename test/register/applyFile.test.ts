import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Citizen } from '../../src/domain/citizen.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import { idv } from '../helpers/cli.js';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';

/**
 * `idv apply --input`: a file of changes, applied in key order a window at a time. What
 * each citizen ends as is what the file's order gives, a rerun applies nothing, and a bad
 * change is named by its line.
 */
let index: TempIndex;
let people: Citizen[];

beforeAll(async () => {
  index = await tempIndex({ synthetic: 300, seed: 5 });
  // In key order, which follows the run's fresh secret: the living first, so that the people the test
  // changes (and those it leaves alive) are never ones the synthetic register already holds as deceased.
  const all = citizens();
  people = [...all.filter((c) => c.status !== 'deceased'), ...all.filter((c) => c.status === 'deceased')];
});
afterAll(() => index.remove());

function citizens(): Citizen[] {
  const reader = IndexReader.openBuild(currentBuildDir(index.indexDir)!, index.secret);
  try {
    return [...reader.citizens()];
  } finally {
    void reader.close();
  }
}

const fileOf = (name: string, changes: object[]) => {
  const path = join(index.dir, name);
  writeFileSync(path, changes.map((c) => JSON.stringify(c)).join('\n') + '\n');
  return path;
};
const apply = (file: string, ...more: string[]) => idv('apply', '--index', index.indexDir, '--secret-file', index.secretFile, '--input', file, ...more);

describe('idv apply --input', () => {
  it('ends each citizen as the file order says, across batches and windows, and applies nothing twice', () => {
    const newcomer = { idNumber: '001326000777', fullName: 'Lê Thị Mới', dateOfBirth: '2026-11-01', gender: 'female' };
    // Each citizen's changes are spread over the file; a later one must win whatever the key order.
    const changes: object[] = [
      { op: 'upsert', record: newcomer },
      ...people.slice(0, 40).map((p) => ({ op: 'revokeCard', idNumber: p.idNumber })),
      { op: 'rename', idNumber: newcomer.idNumber, fullName: 'Lê Thị Mai' },
      ...people.slice(0, 40).map((p) => ({ op: 'reissueCard', idNumber: p.idNumber, cardIssueDate: '2026-11-20' })),
      ...people.slice(40, 60).map((p) => ({ op: 'rename', idNumber: p.idNumber, fullName: `${p.fullName.split(' ')[0]} Hải` })),
      ...people.slice(40, 50).map((p) => ({ op: 'deceased', idNumber: p.idNumber })),
      { op: 'delete', idNumber: people[60].idNumber },
    ];
    const file = fileOf('changes.ndjson', changes);
    const run = apply(file, '--batch', '7', '--window', '50');
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ applied: changes.length, alreadyApplied: 0, lastSequence: changes.length, records: people.length });

    const after = new Map(citizens().map((c) => [c.idNumber, c]));
    expect(after.get(newcomer.idNumber)).toMatchObject({ fullName: 'Lê Thị Mai' });
    for (const p of people.slice(0, 40)) expect(after.get(p.idNumber), p.idNumber).toMatchObject({ cardStatus: 'valid', cardIssueDate: '2026-11-20' });
    for (const p of people.slice(40, 50)) expect(after.get(p.idNumber)).toMatchObject({ fullName: `${p.fullName.split(' ')[0]} Hải`, status: 'deceased' });
    for (const p of people.slice(50, 60)) expect(after.get(p.idNumber)!.status).not.toBe('deceased');
    expect(after.has(people[60].idNumber)).toBe(false);
    for (const p of people.slice(61)) expect(after.get(p.idNumber)).toEqual(p);

    const again = apply(file, '--batch', '7', '--window', '50');
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: 0, alreadyApplied: changes.length, lastSequence: changes.length });
    // Other batch sizes make other batches: refused, not applied a second time.
    const other = apply(file, '--batch', '5', '--window', '50');
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/another --batch or --window/);
    expect(citizens().length).toBe(people.length);
  });

  it('names the line of a malformed change and applies nothing of its window', () => {
    const before = citizens();
    const file = fileOf('bad.ndjson', [{ op: 'revokeCard', idNumber: people[100].idNumber }, {}, { op: 'deceased', idNumber: 'x' }]);
    const run = apply(file);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/line 2: op must be one of/);
    expect(run.stderr).toMatch(/line 3: idNumber must be a valid/);
    expect(citizens()).toEqual(before);
  });

  it('names the line of a change about no one on record', () => {
    const file = fileOf('unknown.ndjson', [{ op: 'revokeCard', idNumber: people[101].idNumber }, { op: 'deceased', idNumber: '001090999991' }]);
    const run = apply(file);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/line 2: no citizen with this idNumber is on record/);
    expect(run.stderr).not.toContain('001090999991');
  });

  it('refuses a window smaller than a batch', () => {
    const run = apply(fileOf('one.ndjson', [{ op: 'revokeCard', idNumber: people[102].idNumber }]), '--batch', '10', '--window', '5');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--window must hold at least one --batch/);
  });
});
