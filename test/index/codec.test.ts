import { describe, expect, it } from 'vitest';
import { sortEntries } from '../../src/index/spill.js';
import { RecordCodec } from '../../src/index/codec.js';
import { Dictionary } from '../../src/index/dictionary.js';
import type { Citizen } from '../../src/domain/citizen.js';

describe('sortEntries', () => {
  it('orders entries that tie on their first five bytes by the rest', () => {
    const entries = [
      [1, 2, 3, 4, 5, 9, 0],
      [1, 2, 3, 4, 5, 1, 7],
      [0, 0, 0, 0, 0, 0, 0],
      [1, 2, 3, 4, 5, 1, 2],
      [255, 0, 0, 0, 0, 0, 0],
    ];
    const data = Buffer.from(entries.flat());
    const starts = Uint32Array.from(entries.map((_, i) => i * 7));
    const order = [...sortEntries(data, starts, 7)];
    expect(order.map((i) => entries[i])).toEqual([...entries].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });
});

describe('record codec', () => {
  const codec = new RecordCodec(Dictionary.standard());
  const roundTrip = (c: Citizen) => codec.decode(codec.encode(c));

  it('round-trips every field, and leaves absent ones absent', () => {
    const full: Citizen = {
      idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17', gender: 'male',
      placeOfOrigin: 'Nam Định', placeOfResidence: 'Thành phố Hà Nội', legacyIdNumber: '012345678', cardIssueDate: '2021-04-01',
      status: 'deceased', cardStatus: 'revoked',
    };
    expect(roundTrip(full)).toEqual(full);
    const minimal: Citizen = { idNumber: '001190000101', fullName: 'Lê Thị B', dateOfBirth: '1990', gender: 'female', status: 'alive', cardStatus: 'valid' };
    expect(roundTrip(minimal)).toEqual(minimal);
    const onlyIssue = { ...minimal, dateOfBirth: '1990-07', cardIssueDate: '2020-01-01' };
    expect(roundTrip(onlyIssue)).toEqual(onlyIssue);
  });

  it('keeps words, places and numbers outside the dictionary exactly', () => {
    const odd: Citizen = {
      idNumber: '295100000000', fullName: 'Nguyễn  Zxy-Ābc Ð', dateOfBirth: '1900-01-01', gender: 'female',
      placeOfOrigin: 'Ấp 3, xã Tân Phú', placeOfResidence: 'Tỉnh Hoà Bình', legacyIdNumber: '001090000101',
      status: 'alive', cardStatus: 'valid',
    };
    expect(roundTrip(odd)).toEqual(odd);
  });

  it('stores a typical citizen in under 40 bytes', () => {
    const typical: Citizen = {
      idNumber: '001090000101', fullName: 'Nguyễn Thị Thu Hương', dateOfBirth: '1990-05-17', gender: 'female',
      placeOfOrigin: 'Nam Định', placeOfResidence: 'Thành phố Hà Nội', legacyIdNumber: '012345678', cardIssueDate: '2021-04-01',
      status: 'alive', cardStatus: 'valid',
    };
    expect(codec.encode(typical).length).toBeLessThan(40);
  });
});
