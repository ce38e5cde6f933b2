import { describe, expect, it } from 'vitest';
import { checkCitizen } from '../../src/domain/citizen.js';

/** The import rules hold the register to what a claim can send back. */
const person = { idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17', gender: 'male' };
const refused = (change: Record<string, unknown>) => checkCitizen({ ...person, ...change });

describe('the import rules', () => {
  it('take a record whose name a claim can send', () => {
    expect(checkCitizen(person)).toMatchObject({ ok: true });
  });

  it.each([
    ['a NUL', 'Nguyễn\u0000 Văn An', 'no control characters'],
    ['an unpaired surrogate', 'Nguyễn \uD800Văn An', 'unpaired surrogates'],
    ['one word', 'Nguyễn', 'a family name and a given name'],
    ['digits only', '12345 678', 'must contain letters'],
    ['a zero-width joiner between two words', 'Nguyễn\u200DVăn An', 'invisible format characters'],
    ['a direction mark inside a word', 'Nguy\u200Fễn Văn An', 'invisible format characters'],
  ])('refuse a name with %s, naming the field and the rule, not the value', (_, fullName, rule) => {
    const check = refused({ fullName });
    expect(check.ok).toBe(false);
    const reason = (check as { reason: string }).reason;
    expect(reason).toMatch(/^fullName /);
    expect(reason).toContain(rule);
    expect(reason).not.toContain('Nguy');
  });

});
