import { describe, expect, it } from 'vitest';
import type { IndexReader } from '../../src/index/reader.js';
import { CandidateRefs, REF_LIFETIME_MINUTES } from '../../src/verification/candidateRef.js';
import { runItems } from '../../src/verification/engine.js';
import { checkIdClaim } from '../../src/verification/idCheck.js';

describe('runItems', () => {
  it('answers a failing item with INTERNAL and still answers the others', async () => {
    const reader = {
      byId: (id: string) => {
        if (id === '001090000999') throw new Error('disk error');
        return undefined;
      },
    } as unknown as IndexReader;
    const options = { nameThreshold: 85, maxCandidates: 10 };
    const claim = { fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' };
    const results = runItems(reader, new CandidateRefs(Buffer.alloc(32, 1)), [
      { type: 'id', claim: { ...claim, idNumber: '001090000999' }, options },
      { type: 'id', claim: { ...claim, idNumber: '001090000101' }, options },
    ]);
    expect(results).toEqual([{ error: { code: 'INTERNAL', message: 'Internal error' } }, { result: 'not_found', fields: {} }]);
  });
});

describe('checkIdClaim by a legacy number held by two citizens', () => {
  it('answers for the holder the claim fits best, and says it was found by the legacy number', async () => {
    const holder = (idNumber: string, fullName: string, dateOfBirth: string) =>
      ({ idNumber, fullName, dateOfBirth, gender: 'male', status: 'alive', cardStatus: 'valid', legacyIdNumber: '012345678' }) as const;
    const records = [holder('001090000101', 'Nguyễn Văn An', '1990-05-17'), holder('079085000202', 'Trần Văn Bình', '1985-01-02')];
    const today = { year: 2026, month: 11, day: 27, precision: 'day' as const };
    const options = { nameThreshold: 85, maxCandidates: 20 };
    const second = checkIdClaim(records, { idNumber: '012345678', fullName: 'Tran Van Binh', dateOfBirth: '1985-01-02' }, options, today);
    expect(second).toMatchObject({ result: 'match', identifiedBy: 'legacyIdNumber', fields: { fullName: { level: 'normalized' } } });
    const neither = checkIdClaim(records, { idNumber: '012345678', fullName: 'Lê Văn Cường', dateOfBirth: '1985-01-02' }, options, today);
    expect(neither).toMatchObject({ result: 'mismatch', identifiedBy: 'legacyIdNumber' });
    expect(neither).not.toHaveProperty('status');
    expect(checkIdClaim([], { idNumber: '012345678', fullName: 'Lê Văn Cường', dateOfBirth: '1985-01-02' }, options, today)).toEqual({ result: 'not_found', fields: {} });
  });
});

describe('CandidateRefs', () => {
  it('names a person only to the client it was given to, for 24 hours, and refuses any altered token', async () => {
    const refs = new CandidateRefs(Buffer.alloc(32, 7));
    const now = Date.UTC(2026, 10, 27, 12, 0);
    const ref = refs.seal('001090000101', 'bank-a', now);
    expect(ref).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(refs.seal('001090000101', 'bank-a', now)).not.toBe(ref); // a fresh nonce each time: equal people are not linkable
    expect(refs.open(ref, 'bank-a', now)).toBe('001090000101');
    expect(refs.open(ref, 'bank-b', now)).toBeUndefined();
    expect(refs.open(ref, 'bank-a', now + REF_LIFETIME_MINUTES * 60_000 - 60_000)).toBe('001090000101');
    expect(refs.open(ref, 'bank-a', now + (REF_LIFETIME_MINUTES + 2) * 60_000)).toBeUndefined();
    expect(new CandidateRefs(Buffer.alloc(32, 8)).open(ref, 'bank-a', now)).toBeUndefined();
    for (let i = 0; i < ref.length; i += 7) {
      const altered = ref.slice(0, i) + (ref[i] === 'A' ? 'B' : 'A') + ref.slice(i + 1);
      expect(refs.open(altered, 'bank-a', now)).toBeUndefined();
    }
  });
});
