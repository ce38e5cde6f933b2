import { describe, expect, it } from 'vitest';
import { centuryGenderDigits, checkIdNumber, isLegacyIdNumber, maskIdNumber } from '../../src/domain/idNumber.js';
import { PROVINCES, COUNTRIES } from '../../src/domain/regions.js';

describe('checkIdNumber', () => {
  it.each([
    ['001090123456', { regionCode: '001', gender: 'male', birthYear: 1990 }],
    ['079185000001', { regionCode: '079', gender: 'female', birthYear: 1985 }],
    ['001205000001', { regionCode: '001', gender: 'male', birthYear: 2005 }],
    ['096325999999', { regionCode: '096', gender: 'female', birthYear: 2025 }],
    ['175092000909', { regionCode: '175', gender: 'male', birthYear: 1992 }],
    ['295100000000', { regionCode: '295', gender: 'female', birthYear: 1900 }],
  ])('decodes %s', (id, parts) => {
    expect(checkIdNumber(id, 2026)).toEqual({ ok: true, parts });
  });

  it.each([
    ['00109012345', 'must be exactly 12 digits'],
    ['0010901234567', 'must be exactly 12 digits'],
    ['00109012345a', 'must be exactly 12 digits'],
    ['００1090123456', 'must be exactly 12 digits'],
    [' 001090123456', 'must be exactly 12 digits'],
    ['003090123456', 'digits 1-3 are not a province or country code'],
    ['000090123456', 'digits 1-3 are not a province or country code'],
    ['097090123456', 'digits 1-3 are not a province or country code'],
    ['296090123456', 'digits 1-3 are not a province or country code'],
    ['001427123456', 'digits 4-6 encode a birth year in the future'],
    ['001830123456', 'digits 4-6 encode a birth year in the future'],
    ['001227123456', 'digits 4-6 encode a birth year in the future'],
  ])('rejects %s', (id, reason) => {
    expect(checkIdNumber(id, 2026)).toEqual({ ok: false, reason });
  });

  it('never puts the number in a reason', () => {
    const result = checkIdNumber('003090123456', 2026);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toContain('003090123456');
  });

  it('knows 63 provinces and 195 countries, without overlap', () => {
    expect(PROVINCES).toHaveLength(63);
    expect(COUNTRIES).toHaveLength(195);
    expect(new Set([...PROVINCES, ...COUNTRIES].map((r) => r.code)).size).toBe(258);
  });

  it('encodes century and gender as the inverse of decoding', () => {
    for (const [year, gender] of [[1900, 'male'], [1999, 'female'], [2000, 'male'], [2099, 'female'], [2150, 'female'], [2399, 'male']] as const) {
      const id = `001${centuryGenderDigits(year, gender)}000000`;
      expect(checkIdNumber(id, 2400)).toEqual({ ok: true, parts: { regionCode: '001', gender, birthYear: year } });
    }
  });

  it('masks all but the region code and last three digits', () => {
    expect(maskIdNumber('001090123456')).toBe('001******456');
  });

  it.each([['123456789', true], ['001090123456', true], ['12345678', false], ['1234567890', false], ['12345678x', false]])(
    'legacy number %s valid: %s',
    (value, valid) => expect(isLegacyIdNumber(value)).toBe(valid),
  );
});
