import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Citizen } from '../../src/domain/citizen.js';
import { queryBlockTexts } from '../../src/index/keys.js';
import { NameKeyFilter } from '../../src/index/nameFilter.js';
import { IndexReader } from '../../src/index/reader.js';
import { idv } from '../helpers/cli.js';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';

describe('the filter of name blocks that hold somebody', () => {
  it('holds every key added, and few others', () => {
    const filter = new NameKeyFilter(100_000);
    const added = Array.from({ length: 100_000 }, () => randomBytes(8));
    for (const key of added) filter.add(key);
    expect(added.filter((key) => !filter.mayHold(key))).toHaveLength(0);
    const others = Array.from({ length: 100_000 }, () => randomBytes(8));
    const falsePositives = others.filter((key) => filter.mayHold(key)).length;
    expect(falsePositives).toBeLessThan(1_500); // 1.5%; about 0.5% expected
    expect(filter.bytes).toBeLessThanOrEqual((100_000 * 24) / 8);
  });
});

describe('a reader with its name filter filled', () => {
  let index: TempIndex;
  let reader: IndexReader;
  const born: Citizen = { idNumber: '001226004521', fullName: 'Lê Minh Khang', dateOfBirth: '2026-11-20', gender: 'male', placeOfOrigin: 'Hà Tĩnh', status: 'alive', cardStatus: 'valid' };
  const found = (fullName: string, dateOfBirth: string) => reader.byNameBlocks(queryBlockTexts(fullName, dateOfBirth)).map((c) => c.idNumber);

  beforeAll(async () => {
    index = await tempIndex({ synthetic: 2_000 });
    reader = IndexReader.open(index.indexDir, index.secret);
    reader.fillNameFilter();
  });
  afterAll(async () => {
    await reader?.close();
    index?.remove();
  });

  it('finds everyone on record as without it', async () => {
    const all = [...reader.citizens()];
    const plain = IndexReader.open(index.indexDir, index.secret);
    try {
      for (const p of all.slice(0, 300)) expect(found(p.fullName, p.dateOfBirth), p.idNumber).toEqual(plain.byNameBlocks(queryBlockTexts(p.fullName, p.dateOfBirth)).map((c) => c.idNumber));
      for (const p of all.slice(0, 300)) expect(found(p.fullName, p.dateOfBirth)).toContain(p.idNumber);
    } finally {
      await plain.close();
    }
  });

  it('finds people the register filed under new blocks after it was filled: a birth, a new name, a corrected date', async () => {
    const [renamed, redated] = [...reader.citizens()].slice(0, 2);
    // Another process writes, as `idv apply` or the register's thread would.
    const changes = [
      { op: 'upsert', record: born },
      { op: 'rename', idNumber: renamed.idNumber, fullName: 'Quách Tĩnh Nhiên' },
      { op: 'upsert', record: { ...redated, dateOfBirth: redated.dateOfBirth.slice(0, 4) } },
    ];
    const file = join(index.dir, 'changes.ndjson');
    writeFileSync(file, changes.map((c) => JSON.stringify(c)).join('\n') + '\n');
    expect(idv('apply', '--index', index.indexDir, '--secret-file', index.secretFile, '--input', file).status).toBe(0);
    // The reader's snapshot is renewed between turns of its event loop, as a server thread's is between requests.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(found('Lê Minh Khang', '2026-11-20')).toEqual([born.idNumber]);
    expect(found('Quách Tĩnh Nhiên', renamed.dateOfBirth)).toEqual([renamed.idNumber]);
    expect(found(redated.fullName, redated.dateOfBirth)).toContain(redated.idNumber);
  });
});
