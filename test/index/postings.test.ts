import { describe, expect, it } from 'vitest';
import { Dictionary } from '../../src/index/dictionary.js';
import { NAME_POSTING_BYTES, POSTING_IV_BYTES, PostingSeal } from '../../src/index/postings.js';
import { SealBrokenError } from '../../src/index/sealing.js';

describe('a name posting', () => {
  const seal = new PostingSeal(Buffer.alloc(32, 7), Dictionary.standard());
  const block = Buffer.alloc(8, 1);
  const person = { idNumber: '001195012345', fullName: 'Nguyễn Thị Thu Hương', gender: 'female' as const };

  it('carries the ID number, gender and name of a name the dictionary codes, from two words to four', () => {
    for (const p of [person, { ...person, fullName: 'Nguyễn Thị Hương' }, { ...person, fullName: 'Lê An', gender: 'male' as const }, { ...person, idNumber: '096299999999' }]) {
      const posting = seal.seal(block, p);
      expect(posting).toHaveLength(NAME_POSTING_BYTES);
      expect(seal.open(block, posting)).toEqual(p);
    }
  });

  it('leaves out a name it cannot code (a word outside the dictionary, one word, three middle names, two spaces): the record is opened for it', () => {
    for (const fullName of ['Nguyễn Thị Xyzzy', 'Hương', 'Nguyễn Thị Thu Ngọc Hương', 'Nguyễn  Hương', 'NGUYỄN THỊ HƯƠNG']) {
      expect(seal.open(block, seal.seal(block, { ...person, fullName }))).toEqual({ idNumber: person.idNumber, gender: 'female' });
    }
  });

  it('is the same for the same person under one block, and unlike under another block or for another person', () => {
    const posting = seal.seal(block, person);
    expect(seal.seal(block, person).equals(posting)).toBe(true);
    const others = [seal.seal(Buffer.alloc(8, 2), person), seal.seal(block, { ...person, idNumber: '001195012346' }), seal.seal(block, { ...person, gender: 'male' })];
    for (const other of others) expect(other.subarray(0, POSTING_IV_BYTES).equals(posting.subarray(0, POSTING_IV_BYTES))).toBe(false);
  });

  it('does not open altered, under another block, or made with another secret', () => {
    const posting = seal.seal(block, person);
    for (let i = 0; i < NAME_POSTING_BYTES; i++) {
      const altered = Buffer.from(posting);
      altered[i] ^= 0x10;
      expect(() => seal.open(block, altered)).toThrow(SealBrokenError);
    }
    expect(() => seal.open(Buffer.alloc(8, 2), posting)).toThrow(SealBrokenError);
    const other = new PostingSeal(Buffer.alloc(32, 8), Dictionary.standard());
    expect(() => other.open(block, posting)).toThrow(SealBrokenError);
  });

  it('shows no digit of the ID number nor a dictionary code in the clear', () => {
    const a = seal.seal(block, person);
    const b = seal.seal(block, { ...person, idNumber: '001195012347' });
    // Plain postings of these two differ in the ID number's last bits only; sealed, nearly every byte differs.
    let same = 0;
    for (let i = POSTING_IV_BYTES; i < NAME_POSTING_BYTES; i++) if (a[i] === b[i]) same++;
    expect(same).toBeLessThan(4);
  });
});
