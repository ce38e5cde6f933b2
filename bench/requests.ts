import { PopulationGenerator } from '../src/synth/generator.js';
import { Random } from '../src/synth/random.js';
import type { Citizen } from '../src/domain/citizen.js';

/**
 * Request bodies drawn from the indexed population (same generator and seed), so
 * every request differs: reservoir sampling keeps `size` people spread over all of it.
 */
export function samplePeople(population: number, seed: number, size: number): Citizen[] {
  const generator = new PopulationGenerator(seed);
  const random = new Random(seed ^ 0x5eed);
  const sample: Citizen[] = [];
  for (let i = 0; i < population; i++) {
    const person = generator.next();
    if (i < size) sample.push(person);
    else {
      const j = random.int(i + 1);
      if (j < size) sample[j] = person;
    }
  }
  return sample;
}

/** /v1/verify bodies: a share of them for ID numbers nobody has (a changed serial). */
export function verifyBodies(people: Citizen[], unknownShare: number, seed = 7): string[] {
  const random = new Random(seed);
  return people.map((p) => {
    let idNumber = p.idNumber;
    if (random.chance(unknownShare)) idNumber = idNumber.slice(0, 6) + String((Number(idNumber.slice(6)) + 500_000) % 1_000_000).padStart(6, '0');
    return JSON.stringify({ idNumber, fullName: p.fullName, dateOfBirth: p.dateOfBirth, gender: p.gender });
  });
}

export function demographicBodies(people: Citizen[]): string[] {
  return people.map((p) => JSON.stringify({ fullName: p.fullName, dateOfBirth: p.dateOfBirth }));
}
