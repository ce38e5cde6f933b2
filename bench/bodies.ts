import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { Random } from '../src/synth/random.js';
import { fullDateWithin } from './matching/pairs.js';

export interface Bodies {
  verify: string[];
  demographic: string[];
  /** Batches of 1,000 ID checks (the verify bodies), at most 20. */
  batch: string[];
}

/** Request bodies about `count` citizens drawn from a bench index (the same ones for the same index). */
export function bodiesFrom(dir: string, count: number): Bodies {
  const reader = IndexReader.open(dir, Secret.load(defaultSecretPath(dir)));
  const random = new Random(42);
  const people = reader.sample(count, () => random.next());
  void reader.close();
  // 10% of verify bodies name an ID number nobody has (another serial).
  const verify = people.map((p) => {
    const idNumber = random.chance(0.1) ? p.idNumber.slice(0, 6) + String((Number(p.idNumber.slice(6)) + 500_007) % 1e6).padStart(6, '0') : p.idNumber;
    return JSON.stringify({ idNumber, fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random), gender: p.gender });
  });
  const demographic = people.map((p) => JSON.stringify({ fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random) }));
  const batch: string[] = [];
  for (let i = 0; i + 1000 <= verify.length && batch.length < 20; i += 1000) {
    batch.push(`{"items":[${verify.slice(i, i + 1000).map((b) => `{"type":"id",${b.slice(1)}`).join(',')}]}`);
  }
  return { verify, demographic, batch };
}
