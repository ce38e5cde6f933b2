import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Citizen } from '../../src/domain/citizen.js';
import { buildIndex } from '../../src/index/build.js';
import { checkIndex, type Difference } from '../../src/index/check.js';
import { IndexReader } from '../../src/index/reader.js';
import { Secret } from '../../src/index/secret.js';
import { fileSource, scanCsvRecords } from '../../src/index/sources.js';
import { syntheticCitizens } from '../../src/synth/generator.js';
import { boundariesBetweenLetters, CSV_COLUMNS, writeStraddlingFile } from '../helpers/straddling.js';

let dir: string;
let secret: Secret;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idv-integrity-'));
  secret = Secret.create(join(dir, 'secret.hex'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let builds = 0;
/** Builds `input` read `readBytes` at a time into a new index directory. */
async function buildFrom(input: string, readBytes?: number) {
  const indexDir = join(dir, `index-${++builds}`);
  const rejectsPath = join(dir, `rejects-${builds}.ndjson`);
  const report = await buildIndex({ indexDir, secret, source: await fileSource(input, { readBytes }), rejectsPath, threads: 2, buckets: 4 });
  return { indexDir, report, rejects: readFileSync(rejectsPath, 'utf8') };
}

/** Every field of every source citizen, as UTF-8 bytes, equals what the index returns. */
async function expectStoredByteForByte(indexDir: string, people: Citizen[]): Promise<void> {
  const reader = IndexReader.open(indexDir, secret);
  try {
    expect(reader.meta.records).toBe(people.length);
    let fields = 0;
    for (const source of people) {
      const stored = reader.byId(source.idNumber);
      expect(stored, `line of ${source.idNumber.slice(0, 3)}…`).toBeDefined();
      const keys = new Set([...Object.keys(source), ...Object.keys(stored!)] as (keyof Citizen)[]);
      for (const k of keys) {
        const same = Buffer.from(source[k] ?? '', 'utf8').equals(Buffer.from(stored![k] ?? '', 'utf8')) && (source[k] === undefined) === (stored![k] === undefined);
        if (!same) expect.fail(`field ${k} of a record differs from the source`);
        fields++;
      }
    }
    expect(fields).toBeGreaterThanOrEqual(people.length * 6);
  } finally {
    await reader.close();
  }
}

async function differences(indexDir: string, input: string, readBytes?: number): Promise<{ found: Difference[]; same: number }> {
  const found: Difference[] = [];
  const report = await checkIndex({ indexDir, secret, input, readBytes, onDifference: (d) => found.push(d) });
  return { found, same: report.same };
}

describe('a letter split between two reads is imported whole', () => {
  it.each([
    ['NDJSON, reads of 16 KiB', 'ndjson', 16 * 1024],
    ['NDJSON, reads of 1 MiB (the default)', 'ndjson', undefined],
    ['CSV with quoted commas, quotes and newlines, reads of 16 KiB', 'csv', 16 * 1024],
  ] as const)('%s', async (_, format, readBytes) => {
    const input = join(dir, `straddling-${format}-${readBytes ?? 'default'}.${format}`);
    const boundary = readBytes ?? 1 << 20;
    // CSV rows get fields that need quoting: a comma, a quote and a newline inside a field.
    const edit = format === 'csv' ? (c: Citizen, i: number): Citizen => ({ ...c, placeOfResidence: `Số ${i}, ngõ "Hòe"\nphường Đông, ${c.placeOfResidence ?? 'Hà Nội'}` }) : undefined;
    const people = writeStraddlingFile(input, { format, readBytes: boundary, targetBytes: 4.5 * 1024 * 1024, seed: 11, edit });
    const size = statSync(input).size;
    expect(size).toBeGreaterThan(4 * 1024 * 1024);
    // Every read boundary falls inside a letter: the test cannot pass without crossing them.
    expect(Math.floor(size / boundary)).toBeGreaterThanOrEqual(4);
    expect(boundariesBetweenLetters(input, boundary)).toEqual([]);

    const { indexDir, report, rejects } = await buildFrom(input, readBytes);
    expect(rejects).toBe('');
    expect(report.records).toBe(people.length);
    await expectStoredByteForByte(indexDir, people);
    const check = await differences(indexDir, input, readBytes);
    expect(check).toEqual({ found: [], same: people.length });
  });

  it('reports rows the CSV parser cannot read with their starting line, and goes on', async () => {
    const input = join(dir, 'broken.csv');
    const [a, , c] = [...syntheticCitizens(5, 0, 3)];
    const row = (p: Citizen) => CSV_COLUMNS.map((k) => (p[k] === undefined ? '' : `"${p[k]}"`)).join(',');
    // Line 2: a row spanning lines 2-3; line 4: a quote inside an unquoted field; line 5: read on.
    writeFileSync(input, `${CSV_COLUMNS.join(',')}\n${row(a).replace('",', '\n",')}\nx"y,1\n${row(c)}\n`);
    const { report, rejects } = await buildFrom(input);
    expect(report.records).toBe(2);
    expect(rejects.trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ line: 4, reason: 'unparseable: CSV INVALID_OPENING_QUOTE' }]);
  });
});

describe('a file that starts with a byte order mark', () => {
  const people = () => [...Array(3)].map((_, i) => ({ idNumber: `00109000010${i}`, fullName: 'Nguyễn Văn Huy', dateOfBirth: '1990-05-17', gender: 'male' as const, status: 'alive' as const, cardStatus: 'valid' as const }));

  it('imports its first NDJSON line', async () => {
    const input = join(dir, 'bom.ndjson');
    writeFileSync(input, '\uFEFF' + people().map((p) => JSON.stringify(p)).join('\r\n') + '\r\n');
    const { indexDir, report, rejects } = await buildFrom(input);
    expect(rejects).toBe('');
    expect(report.records).toBe(3);
    await expectStoredByteForByte(indexDir, people());
  });

  it('reads its CSV header', async () => {
    const input = join(dir, 'bom.csv');
    const cols = ['idNumber', 'fullName', 'dateOfBirth', 'gender'] as const;
    writeFileSync(input, '\uFEFF' + [cols.join(','), ...people().map((p) => cols.map((k) => p[k]).join(','))].join('\n'));
    const { indexDir, report, rejects } = await buildFrom(input);
    expect(rejects).toBe('');
    expect(report.records).toBe(3);
    await expectStoredByteForByte(indexDir, people());
  });
});

describe('idv check and the source in the metadata', () => {
  it('records the source checksum and counts, and reports each record stored otherwise, by line and field name only', async () => {
    const input = join(dir, 'checked.ndjson');
    const people = writeStraddlingFile(input, { format: 'ndjson', readBytes: 64 * 1024, targetBytes: 256 * 1024, seed: 12 });
    writeFileSync(input, readFileSync(input, 'utf8') + '{"idNumber":"1"}\n');
    const { indexDir, report } = await buildFrom(input);
    const reader = IndexReader.open(indexDir, secret);
    expect(reader.meta).toMatchObject({
      sourceSha256: createHash('sha256').update(readFileSync(input)).digest('hex'),
      sourceBytes: statSync(input).size,
      sourceRecords: people.length + 1,
      records: people.length,
      rejects: 1,
    });
    await reader.close();
    expect(report.rejects).toBe(1);

    const clean = await checkIndex({ indexDir, secret, input, onDifference: () => {} });
    expect(clean).toEqual({ sameSourceAsBuild: true, sourceRecords: people.length + 1, same: people.length, rejectedAtBuild: 1, differences: 0 });

    // The register file changes after the build: one name, one date of birth, one new citizen.
    const lines = readFileSync(input, 'utf8').split('\n');
    const at = (n: number) => lines.findIndex((l) => l.includes(people[n].idNumber));
    const [renamed, redated] = [at(3), at(7)];
    lines[renamed] = lines[renamed].replace(people[3].fullName, people[3].fullName + ' Anh');
    lines[redated] = lines[redated].replace(`"dateOfBirth":"${people[7].dateOfBirth}"`, `"dateOfBirth":"${people[7].dateOfBirth.slice(0, 4)}"`);
    const newcomer = { ...people[0], idNumber: people[0].idNumber.slice(0, 6) + String((Number(people[0].idNumber.slice(6)) + 1) % 1e6).padStart(6, '0') };
    lines.push(JSON.stringify(newcomer));
    writeFileSync(input, lines.join('\n'));
    const found: Difference[] = [];
    const changed = await checkIndex({ indexDir, secret, input, onDifference: (d) => found.push(d) });
    expect(changed.sameSourceAsBuild).toBe(false);
    expect(found).toEqual([
      { line: renamed + 1, problem: 'differs', fields: ['fullName'] },
      { line: redated + 1, problem: 'differs', fields: ['dateOfBirth'] },
      { line: lines.length, problem: 'missing' },
    ]);
    expect(JSON.stringify(found)).not.toMatch(/\d{9}|Anh/);
  });
});

describe('cutting CSV text at record ends, as csv-parse reads it', () => {
  it.each([
    ['plain rows', 'a,b\nc,d\n', { firstEnd: 4, lastEnd: 8, records: 2 }],
    ['a last row without its newline is not complete', 'a,b\nc,d', { firstEnd: 4, lastEnd: 4, records: 1 }],
    ['a quoted newline and comma', '"a\nb,c",d\ne,f\n', { firstEnd: 10, lastEnd: 14, records: 2 }],
    ['doubled quotes inside a quoted field', '"say ""hi\n""",x\ny\n', { firstEnd: 16, lastEnd: 18, records: 2 }],
    ['a quote inside an unquoted field opens nothing', 'x"y,1\nz\n', { firstEnd: 6, lastEnd: 8, records: 2 }],
    ['blank lines and CRLF', 'a\r\n\r\n\nb\r\n', { firstEnd: 3, lastEnd: 9, records: 2 }],
    ['a quoted field still open', 'a\n"b\nc', { firstEnd: 2, lastEnd: 2, records: 1 }],
    ['a quote as the last character may yet be doubled', 'a\n"b\n"', { firstEnd: 2, lastEnd: 2, records: 1 }],
  ])('%s', (_, text, expected) => expect(scanCsvRecords(text)).toEqual(expected));
});
