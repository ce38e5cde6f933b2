import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { unpack } from 'msgpackr';
import type { Citizen } from '../../src/domain/citizen.js';
import { idKeyText, ID_KEY_BYTES, keyHasher, nameBlockKey } from '../../src/index/keys.js';
import { Dictionary } from '../../src/index/dictionary.js';
import { PostingSeal } from '../../src/index/postings.js';
import { SealBrokenError } from '../../src/index/sealing.js';
import { currentBuildDir, DB_FILE } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import { buildIndex } from '../../src/index/build.js';
import { RegisterWriter } from '../../src/register/writer.js';
import { fileSource } from '../../src/index/sources.js';
import { fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';

/**
 * What the privacy issue found: opening index.mdb with lmdb and msgpackr, without the
 * secret, gave every ID number, date of birth and legacy number, and names through the
 * word list in the metadata. Here the index directory is copied, as a thief would, and
 * read every way that worked then.
 */
let index: TempIndex;
let copy: string;
let people: Citizen[];
// Changes applied by the register before the copy: their values, the change log and the
// idempotency keys (one naming an ID number, as a careless client might) must not show either.
const born: Citizen = { idNumber: '001226004521', fullName: 'Lê Minh Khang', dateOfBirth: '2026-11-20', gender: 'male', placeOfOrigin: 'Hà Tĩnh', status: 'alive', cardStatus: 'valid' };
const renamed = { idNumber: '001090000101', fullName: 'Nguyễn Văn Thắng' };
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  people = readFileSync(fixture('citizens.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Citizen);
  const writer = RegisterWriter.open(currentBuildDir(index.indexDir)!, index.secret);
  writer.apply('registrar', { idempotencyKey: 'rename-001090000101', changes: [{ op: 'rename', ...renamed }, { op: 'upsert', record: born }, { op: 'deceased', idNumber: '001199000404' }] });
  await writer.close();
  people.push(born, { ...people[0], ...renamed });
  copy = mkdtempSync(join(tmpdir(), 'idv-copy-'));
  cpSync(index.indexDir, copy, { recursive: true, verbatimSymlinks: true });
});
afterAll(() => {
  index.remove();
  rmSync(copy, { recursive: true, force: true });
});

const dateInt = (date: string) => Number(date.padEnd(10, '-00').replace(/-/g, '').slice(0, 8).padEnd(8, '0'));

/** Every way a person's data could sit in a file: text (NFC and NFD), and the integers the old format stored. */
function personalPatterns(): { what: string; bytes: Buffer }[] {
  const out: { what: string; bytes: Buffer }[] = [];
  const text = (what: string, value: string) => {
    out.push({ what, bytes: Buffer.from(value) });
    out.push({ what: `${what} (NFD)`, bytes: Buffer.from(value.normalize('NFD')) });
  };
  const uint = (what: string, n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    // msgpack's big-endian integers: the significant bytes, as uint32/uint64 store them.
    out.push({ what, bytes: b.subarray(b.findIndex((x) => x !== 0)) });
  };
  for (const p of people) {
    text('an ID number', p.idNumber);
    uint('an ID number as an integer', Number(p.idNumber));
    text('a name', p.fullName);
    for (const word of p.fullName.split(' ').filter((w) => w.length >= 3)) text('a name word', word);
    text('a date of birth', p.dateOfBirth);
    uint('a date of birth as an integer', dateInt(p.dateOfBirth));
    for (const place of [p.placeOfOrigin, p.placeOfResidence]) if (place) text('a place', place);
    if (p.legacyIdNumber) {
      text('a legacy number', p.legacyIdNumber);
      uint('a legacy number as an integer', Number(p.legacyIdNumber));
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('a copy of the index directory, without the secret', () => {
  it('holds the changes the register applied, sealed: the change log and the batches applied', async () => {
    const env = open({ path: join(currentBuildDir(copy)!, DB_FILE), readOnly: true, maxDbs: 8 });
    try {
      expect([...env.openDB({ name: 'changes', encoding: 'binary', keyEncoding: 'binary' }).getRange({})].length).toBe(3);
      const applied = JSON.stringify([...env.openDB({ name: 'applied', encoding: 'json', keyEncoding: 'binary' }).getRange({})].map((e) => e.value));
      expect(applied).toContain('"lastSequence":3');
      expect(applied).not.toContain('001090000101');
    } finally {
      await env.close();
    }
  });

  it('is a copy: its builds are its own files', () => {
    expect(currentBuildDir(copy)!.startsWith(copy)).toBe(true);
  });

  it('holds the secret nowhere: it is kept outside the directory', () => {
    const secretHex = index.secret.hex;
    for (const file of filesUnder(copy)) expect(readFileSync(file).toString('latin1').toLowerCase(), file).not.toContain(secretHex);
  });

  it('holds no ID number, name, date of birth, place or legacy number in its bytes', () => {
    const files = filesUnder(copy);
    expect(files.some((f) => f.endsWith(DB_FILE))).toBe(true);
    const patterns = personalPatterns();
    // The 4-byte patterns (dates as integers) could match sealed bytes by chance: 1 in 2^32 per position.
    expect(files.reduce((n, f) => n + statSync(f).size, 0)).toBeLessThan(2 ** 24);
    for (const file of files) {
      const bytes = readFileSync(file);
      const found = patterns.filter((p) => p.bytes.length >= 4 && bytes.includes(p.bytes)).map((p) => p.what);
      expect(found, file).toEqual([]);
    }
  });

  it('decodes to nothing personal with lmdb and msgpackr, and its metadata names no word', async () => {
    const env = open({ path: join(currentBuildDir(copy)!, DB_FILE), readOnly: true, maxDbs: 8 });
    try {
      const records = env.openDB({ name: 'records', encoding: 'binary', keyEncoding: 'binary' });
      const decoded: unknown[] = [];
      let values = 0;
      for (const { value } of records.getRange({})) {
        values++;
        try {
          decoded.push(unpack(value as Buffer));
        } catch {
          decoded.push(null); // not msgpack at all
        }
      }
      expect(values).toBe(people.length - 1); // the renamed citizen is one record
      const text = JSON.stringify(decoded, (_, v) => (typeof v === 'bigint' ? String(v) : v));
      for (const p of people) {
        expect(text).not.toContain(p.idNumber);
        expect(text).not.toContain(String(Number(p.idNumber)));
        expect(text).not.toContain(String(dateInt(p.dateOfBirth)));
        expect(text).not.toContain(p.fullName.split(' ')[0]);
      }
      const meta = JSON.stringify(env.openDB({ name: 'meta', encoding: 'json' }).get('meta'));
      expect(meta).toContain('"dictionary"');
      for (const word of ['Nguyễn', 'Văn', 'Thị', 'Hà Nội', 'Nam Định']) expect(meta).not.toContain(word);
    } finally {
      await env.close();
    }
  });
});

describe('the name postings of a copy', () => {
  it('are sealed people under keyed blocks: one per citizen, each what the secret makes of them, none showing an ID number or opening without the secret', async () => {
    const env = open({ path: join(currentBuildDir(copy)!, DB_FILE), readOnly: true, maxDbs: 8 });
    const postings: { key: Buffer; value: Buffer }[] = [];
    try {
      const byName = env.openDB({ name: 'byName', dupSort: true, encoding: 'binary', keyEncoding: 'binary' });
      for (const { key, value } of byName.getRange({})) postings.push({ key: Buffer.from(key as Buffer), value: Buffer.from(value as Buffer) });
    } finally {
      await env.close();
    }
    const current = new Map(people.map((p) => [p.idNumber, p])); // the renamed citizen as renamed
    const hash = keyHasher(index.secret.bytes);
    const seal = new PostingSeal(index.secret.bytes, Dictionary.standard());
    const hex = (key: Buffer, value: Buffer) => `${key.toString('hex')}:${value.toString('hex')}`;
    const expected = [...current.values()].map((p) => {
      const key = nameBlockKey(hash, p);
      return hex(key, seal.seal(key, p));
    });
    // Every citizen once (the renamed one moved, not copied), and each posting what the secret makes of them.
    expect(postings.map((p) => hex(p.key, p.value)).sort()).toEqual(expected.sort());
    // The fixture's two "Nguyễn Thị Hương" of one birthday and block have postings as unlike as anyone's.
    expect(new Set(postings.map((p) => p.value.toString('hex'))).size).toBe(postings.length);
    for (const { value } of postings) {
      for (const p of current.values()) expect(value.includes(Buffer.from(Number(p.idNumber).toString(16).padStart(10, '0'), 'hex'))).toBe(false);
    }
    const other = new PostingSeal(Buffer.alloc(32, 9), Dictionary.standard());
    for (const { key, value } of postings) expect(() => other.open(key, value)).toThrow(SealBrokenError);
  });
});

describe('sealed values under the secret', () => {
  it('open for the reader that holds the secret, and a value altered or moved to another key does not', async () => {
    const build = currentBuildDir(copy)!;
    const hash = keyHasher(index.secret.bytes);
    const keyOf = (id: string) => hash(idKeyText(id), ID_KEY_BYTES);
    const [a, b] = [people[0].idNumber, people[1].idNumber];
    const env = open({ path: join(build, DB_FILE), maxDbs: 8 });
    const records = env.openDB({ name: 'records', encoding: 'binary', keyEncoding: 'binary' });
    const valueA = Buffer.from(records.getBinary(keyOf(a))!);
    const altered = Buffer.from(valueA);
    altered[altered.length >> 1] ^= 1;
    await records.put(keyOf(a), altered);
    await records.put(keyOf(b), valueA); // A's value under B's key
    await env.close();

    const reader = IndexReader.openBuild(build, index.secret);
    try {
      expect(() => reader.byId(a)).toThrow(expect.objectContaining({ code: 'SEAL_BROKEN' }));
      expect(() => reader.byId(b)).toThrow(expect.objectContaining({ code: 'SEAL_BROKEN' }));
      expect(reader.byId(people[2].idNumber)).toMatchObject({ fullName: people[2].fullName, dateOfBirth: people[2].dateOfBirth });
    } finally {
      await reader.close();
    }
  });

  it('are sealed under a key of each build: the same citizen under the same secret is stored differently by two builds', async () => {
    const sealedIn = async (indexDir: string) => {
      const env = open({ path: join(currentBuildDir(indexDir)!, DB_FILE), readOnly: true, maxDbs: 8 });
      const records = env.openDB({ name: 'records', encoding: 'binary', keyEncoding: 'binary' });
      const value = Buffer.from(records.getBinary(keyHasher(index.secret.bytes)(idKeyText(people[0].idNumber), ID_KEY_BYTES))!);
      await env.close();
      return value;
    };
    const indexDir = join(index.dir, 'rebuilt');
    await buildIndex({ indexDir, secret: index.secret, source: await fileSource(fixture('citizens.ndjson')), rejectsPath: join(index.dir, 'rebuilt-rejects.ndjson'), threads: 1, buckets: 4 });
    expect((await sealedIn(indexDir)).equals(await sealedIn(index.indexDir))).toBe(false);
  });
});
