import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IndexReader } from '../../src/index/reader.js';
import { Secret } from '../../src/index/secret.js';
import { queryBlockTexts } from '../../src/index/keys.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { buildIndex } from '../../src/index/build.js';
import { fileSource } from '../../src/index/sources.js';
import { syntheticSource } from '../../src/synth/source.js';
import { syntheticCitizens } from '../../src/synth/generator.js';
import { fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';

describe('build from NDJSON with bad lines', () => {
  let index: TempIndex;
  let reader: IndexReader;
  beforeAll(async () => {
    index = await tempIndex({ input: fixture('bad-lines.ndjson') });
    reader = IndexReader.open(index.indexDir, index.secret);
  });
  afterAll(async () => {
    await reader.close();
    index.remove();
  });

  it('keeps the good lines and counts the rest', () => {
    expect(index.report.records).toBe(2);
    expect(index.report.rejects).toBe(10);
    expect(reader.meta.records).toBe(2);
  });

  it('writes each bad line to the rejects file with its line number and reason', () => {
    const byLine = Object.fromEntries(index.rejects().map((r) => [r.line, r.reason]));
    expect(byLine).toEqual({
      2: 'duplicate idNumber (first on line 1)',
      3: 'idNumber must be exactly 12 digits',
      4: 'idNumber digits 1-3 are not a province or country code',
      5: 'gender disagrees with idNumber digit 4',
      6: 'dateOfBirth year disagrees with idNumber digits 4-6',
      7: 'unparseable: not valid JSON',
      9: 'fullName is required',
      10: 'dateOfBirth must be YYYY-MM-DD, YYYY-MM or YYYY',
      11: 'unknown field "nickname"',
      12: 'legacyIdNumber must be 9 or 12 digits',
    });
  });

  it('keeps no personal data in the rejects file', () => {
    const text = JSON.stringify(index.rejects());
    for (const value of ['001090000101', 'Someone Else', 'Bad Province', '1990-02-30', 'not json']) expect(text).not.toContain(value);
  });

  it('keeps the first of two lines with the same ID number, and nothing of the second', () => {
    expect(reader.byId('001090000101')?.fullName).toBe('Nguyễn Văn An');
    expect(reader.byNameBlocks(queryBlockTexts('Someone Else', '1990-01-01'))).toEqual([]);
  });

  it('finds records by legacy ID number', () => {
    expect(reader.byLegacyId('123456789').map((c) => c.idNumber)).toEqual(['001090000117']);
  });
});

describe('build from CSV', () => {
  it('reads the header, quoted fields and defaults, and rejects a bad row', async () => {
    const index = await tempIndex({ input: fixture('citizens.csv') });
    const reader = IndexReader.open(index.indexDir, index.secret);
    try {
      expect(index.report.records).toBe(2);
      expect(index.rejects()).toEqual([{ line: 4, reason: 'status must be one of alive, deceased' }]);
      expect(reader.byId('001090000101')).toMatchObject({ placeOfResidence: 'Thành phố Hà Nội, Việt Nam', legacyIdNumber: '012345678', status: 'alive' });
      expect(reader.byId('079190000202')).toMatchObject({ fullName: 'Trần Thị Thủy', cardStatus: 'valid' });
    } finally {
      await reader.close();
      index.remove();
    }
  });
});

describe('index keys and secrets', () => {
  let index: TempIndex;
  beforeAll(async () => {
    index = await tempIndex({ input: fixture('citizens.ndjson') });
  });
  afterAll(() => index.remove());

  it('stores no raw ID number, name or legacy number in keys', async () => {
    const { openDbs } = await import('../../src/index/layout.js');
    const dbs = openDbs(currentBuildDir(index.indexDir)!, 'read');
    try {
      const keys = [dbs.records, dbs.byName, dbs.byLegacy].flatMap((db) => [...db.getKeys()].map((k) => Buffer.from(k as Uint8Array)));
      expect(keys.length).toBeGreaterThan(10);
      expect(new Set(keys.map((k) => k.length))).toEqual(new Set([12, 8]));
      const text = Buffer.concat(keys).toString('latin1');
      for (const raw of ['001090000101', '012345678', 'Nguy', '1990']) expect(text).not.toContain(raw);
    } finally {
      await dbs.env.close();
    }
  });

  it('refuses a build of an older format (format 4: name postings of a tag and a record key), saying to rebuild', async () => {
    const { openDbs } = await import('../../src/index/layout.js');
    const { FORMAT_VERSION } = await import('../../src/index/codec.js');
    const old = join(index.dir, 'old-format');
    await buildIndex({ indexDir: old, secret: index.secret, source: await fileSource(fixture('citizens.ndjson')), rejectsPath: join(index.dir, 'old-rejects.ndjson'), threads: 1, buckets: 4 });
    const current = IndexReader.open(old, index.secret);
    expect(current.meta.formatVersion).toBe(FORMAT_VERSION);
    await current.close();
    const dbs = openDbs(currentBuildDir(old)!, 'build');
    await dbs.meta.put('meta', { ...(dbs.meta.get('meta') as object), formatVersion: 4 });
    await dbs.env.close();
    expect(() => IndexReader.open(old, index.secret)).toThrow(`index format 4 is not the supported format ${FORMAT_VERSION}: rebuild it`);
  });

  it('refuses to open with another secret', () => {
    const other = Secret.fromHex('ab'.repeat(32));
    expect(() => IndexReader.open(index.indexDir, other)).toThrow(/another secret/);
  });

  it('reads a secret file with or without a trailing newline, and refuses a malformed one', () => {
    const path = join(index.dir, 's.hex');
    writeFileSync(path, 'cd'.repeat(32), { mode: 0o600 });
    expect(Secret.load(path).hex).toBe('cd'.repeat(32));
    writeFileSync(path, 'cd'.repeat(32) + '\n');
    expect(Secret.load(path).hex).toBe('cd'.repeat(32));
    writeFileSync(path, 'cd'.repeat(31));
    expect(() => Secret.load(path)).toThrow(/64 hex characters/);
  });

  it('refuses a secret file other users may read or change; its group may read it', () => {
    const path = join(index.dir, 'shared.hex');
    writeFileSync(path, 'cd'.repeat(32), { mode: 0o600 });
    for (const mode of [0o644, 0o604, 0o602, 0o620]) {
      chmodSync(path, mode);
      expect(() => Secret.load(path)).toThrow(/may be read or changed by other users/);
    }
    chmodSync(path, 0o640);
    expect(Secret.load(path).hex).toBe('cd'.repeat(32));
  });

  it('creates new secret files with mode 0600', () => {
    const path = join(index.dir, 'new', 'secret.hex');
    Secret.create(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('publishing', () => {
  it('serves only complete builds: a leftover partial build is removed and a rebuild replaces the old one, even within the same second', async () => {
    const index = await tempIndex({ synthetic: 200, seed: 3 });
    try {
      const first = currentBuildDir(index.indexDir)!;
      mkdirSync(join(index.indexDir, 'build-20000101T000000Z.partial'));
      await buildIndex({ indexDir: index.indexDir, secret: index.secret, source: syntheticSource(300, 4), rejectsPath: join(index.dir, 'r2'), threads: 1, buckets: 2 });
      const second = currentBuildDir(index.indexDir)!;
      expect(second).not.toBe(first);
      expect(existsSync(first)).toBe(false);
      expect(readdirSync(index.indexDir).filter((e) => e.endsWith('.partial'))).toEqual([]);
      const reader = IndexReader.open(index.indexDir, index.secret);
      expect(reader.meta.records).toBe(300);
      await reader.close();
    } finally {
      index.remove();
    }
  });

  it('finds every synthetic person by ID and by name and date of birth', async () => {
    const index = await tempIndex({ synthetic: 500, seed: 9 });
    const reader = IndexReader.open(index.indexDir, index.secret);
    try {
      const people = [...syntheticCitizens(9, 0, 500)];
      for (const p of people) {
        expect(reader.byId(p.idNumber)?.fullName).toBe(p.fullName);
        const found = reader.byNameBlocks(queryBlockTexts(p.fullName, p.dateOfBirth)).map((c) => c.idNumber);
        expect(found).toContain(p.idNumber);
      }
    } finally {
      await reader.close();
      index.remove();
    }
  });

  it('reports the source checksum of an input file', async () => {
    const source = await fileSource(fixture('citizens.ndjson'));
    for await (const _ of source.work);
    const { createHash } = await import('node:crypto');
    expect(source.summary!().sha256).toBe(createHash('sha256').update(readFileSync(fixture('citizens.ndjson'))).digest('hex'));
  });
});
