import { describe, expect, it } from 'vitest';
import { PopulationGenerator } from '../src/synth/generator.js';
import { checkIdNumber } from '../src/domain/idNumber.js';
import type { Citizen } from '../src/domain/citizen.js';

describe('synthetic population', () => {
  const people: Citizen[] = [];
  const generator = new PopulationGenerator(11);
  for (let i = 0; i < 50_000; i++) people.push(generator.next());
  const share = (pred: (c: Citizen) => boolean) => people.filter(pred).length / people.length;

  it('has unique ID numbers consistent with gender and year of birth', () => {
    expect(new Set(people.map((p) => p.idNumber)).size).toBe(people.length);
    for (const p of people) {
      const id = checkIdNumber(p.idNumber);
      expect(id.ok && id.parts.gender === p.gender && id.parts.birthYear === Number(p.dateOfBirth.slice(0, 4))).toBe(true);
    }
  });

  it('follows the reference shares', () => {
    expect(share((p) => p.gender === 'female')).toBeCloseTo(0.5, 1);
    expect(share((p) => p.fullName.startsWith('Nguyễn '))).toBeGreaterThan(0.33);
    expect(share((p) => p.fullName.startsWith('Nguyễn '))).toBeLessThan(0.43);
    expect(share((p) => p.idNumber.startsWith('001') || p.idNumber.startsWith('079'))).toBeGreaterThan(0.15);
    expect(share((p) => p.status === 'deceased')).toBeLessThan(0.02);
    expect(share((p) => p.cardStatus === 'revoked')).toBeLessThan(0.01);
    expect(share((p) => p.cardStatus === 'revoked')).toBeGreaterThan(0);
    expect(share((p) => p.idNumber[0] === '1' || p.idNumber[0] === '2')).toBeGreaterThan(0);
  });

  it('registers only a year (or month) for a share of older people, never for the young', () => {
    const old = people.filter((p) => Number(p.dateOfBirth.slice(0, 4)) < 1950);
    expect(old.filter((p) => p.dateOfBirth.length === 4).length / old.length).toBeGreaterThan(0.15);
    expect(people.filter((p) => Number(p.dateOfBirth.slice(0, 4)) >= 1975).every((p) => p.dateOfBirth.length === 10)).toBe(true);
  });

  it('gives legacy numbers to adults only, and includes same-name-same-birthday pairs', () => {
    expect(people.filter((p) => p.legacyIdNumber).every((p) => Number(p.dateOfBirth.slice(0, 4)) <= 2008)).toBe(true);
    const seen = new Map<string, number>();
    for (const p of people) seen.set(`${p.fullName}|${p.dateOfBirth}`, (seen.get(`${p.fullName}|${p.dateOfBirth}`) ?? 0) + 1);
    expect([...seen.values()].filter((n) => n > 1).length).toBeGreaterThan(20);
  });
});
