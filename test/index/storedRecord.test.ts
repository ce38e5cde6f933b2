import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentBuildDir, openDbs, storedRecord } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import { fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';

/**
 * lmdb's getBinaryFast hands back its shared 16 MiB read buffer with `length` set to the
 * value's; Node 24's subarray takes the array's own length, so a record used as it came
 * ran on to the buffer's end and did not open (SEAL_BROKEN on every lookup). A record is
 * read as a view of its own bytes.
 */
let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
});
afterAll(() => index.remove());

describe('a stored record, read', () => {
  it('is a view of its own bytes, whatever the read buffer behind it', () => {
    const dbs = openDbs(currentBuildDir(index.indexDir)!, 'read');
    try {
      for (const { key } of dbs.records.getRange()) {
        const value = storedRecord(dbs, key as Buffer)!;
        expect(value.byteLength).toBe(value.length);
        expect(value.subarray(1).byteLength).toBe(value.length - 1);
      }
    } finally {
      void dbs.env.close();
    }
  });

  it('opens under its key, one lookup after another', async () => {
    const reader = IndexReader.open(index.indexDir, index.secret);
    try {
      expect(reader.byId('001090000101')?.fullName).toBe('Nguyễn Văn An');
      expect(reader.byId('079190000202')?.fullName).toBe('Trần Thị Thủy');
    } finally {
      await reader.close();
    }
  });
});
