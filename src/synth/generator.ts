import type { Citizen } from '../domain/citizen.js';
import { centuryGenderDigits, type Gender } from '../domain/idNumber.js';
import type { Region } from '../domain/regions.js';
import { AGE_GROUPS, BIRTH_PROVINCES, CMND_PREFIXES, COUNTRIES, FEMALE_SHARE, GIVEN, MIDDLES, SURNAMES } from './facts.js';
import { Random } from './random.js';

/**
 * A synthetic population drawn from the reference tables: the same seed gives the
 * same people in the same order. The census date is fixed (not "today") so that a
 * seed means the same population whenever it is generated.
 */
const CENSUS = Date.UTC(2025, 6, 1);
const DAY_MS = 86_400_000;
const YEAR_MS = 365.2425 * DAY_MS;
const FIRST_CARD = Date.UTC(2016, 0, 1);
const LAST_CARD = Date.UTC(2025, 5, 30);

const SHARE_BORN_ABROAD = 0.002;
const SHARE_SAME_NAME_AND_BIRTHDAY = 0.002;
const SHARE_WITH_LEGACY_ID = 0.8;
const SHARE_WITH_CARD = 0.92;
const SHARE_REVOKED = 0.002;
// Serials are a bijection of a per-prefix counter: odd and not a multiple of 5, so
// coprime with 10^6, so distinct counters give distinct serials.
const SERIAL_STRIDE = 7_654_321;
const SERIALS = 1_000_000;
const CITIES = new Set(['001', '031', '048', '079', '092']);

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export class PopulationGenerator {
  private readonly random: Random;
  private readonly serialCounters = new Map<string, number>();
  private readonly lastByGender: Partial<Record<Gender, { fullName: string; dateOfBirth: string; birthMs: number }>> = {};

  constructor(seed = 1) {
    this.random = new Random(seed);
  }

  next(): Citizen {
    const r = this.random;
    const gender: Gender = r.chance(FEMALE_SHARE) ? 'female' : 'male';
    let { fullName, birthMs } = this.person(gender);
    let dateOfBirth = this.registeredDate(birthMs);
    const twin = this.lastByGender[gender];
    if (twin && r.chance(SHARE_SAME_NAME_AND_BIRTHDAY)) ({ fullName, dateOfBirth, birthMs } = twin);
    this.lastByGender[gender] = { fullName, dateOfBirth, birthMs };

    const birthYear = new Date(birthMs).getUTCFullYear();
    const region = this.birthRegion();
    const citizen: Citizen = {
      idNumber: this.idNumber(region, birthYear, gender),
      fullName,
      dateOfBirth,
      gender,
      placeOfOrigin: region.abroad ? region.name : (r.chance(0.8) ? region : BIRTH_PROVINCES.pick(r)).name,
      placeOfResidence: this.residence(region),
      status: 'alive',
      cardStatus: 'valid',
    };
    const age = (CENSUS - birthMs) / YEAR_MS;
    if (age >= 18 && r.chance(SHARE_WITH_LEGACY_ID)) citizen.legacyIdNumber = this.legacyId();
    if (age >= 14 && r.chance(SHARE_WITH_CARD)) {
      const from = Math.max(FIRST_CARD, birthMs + 14 * YEAR_MS);
      citizen.cardIssueDate = iso(from + r.next() * (LAST_CARD - from));
      if (r.chance(SHARE_REVOKED)) citizen.cardStatus = 'revoked';
    }
    if (r.chance(age >= 80 ? 0.05 : age >= 60 ? 0.01 : 0.001)) citizen.status = 'deceased';
    return citizen;
  }

  private person(gender: Gender): { fullName: string; birthMs: number } {
    const r = this.random;
    const [minAge, maxAge] = AGE_GROUPS[gender].pick(r);
    const age = minAge + r.next() * (maxAge - minAge + 1);
    const birthMs = Math.floor((CENSUS - age * YEAR_MS) / DAY_MS) * DAY_MS;
    const year = new Date(birthMs).getUTCFullYear();
    return { fullName: this.fullName(gender, year), birthMs };
  }

  private fullName(gender: Gender, birthYear: number): string {
    const r = this.random;
    const words = [SURNAMES.pick(r)];
    // Thị and Văn were near-universal in older cohorts and are rarer among the young
    // (65.8% / 16.9% for those born about 2005, the sample year).
    const older = 2005 - birthYear;
    const classic = gender === 'female' ? clamp(0.658 + older * 0.006, 0.5, 0.95) : clamp(0.169 + older * 0.012, 0.1, 0.8);
    if (r.chance(classic)) words.push(gender === 'female' ? 'Thị' : 'Văn');
    else if (r.chance(0.9)) words.push(MIDDLES[gender].pick(r));
    if (r.chance(gender === 'female' ? 0.35 : 0.084)) words.push(MIDDLES[gender].pick(r));
    words.push(GIVEN[gender].pick(r));
    return words.join(' ');
  }

  /** Many older citizens have only a year (or a year and month) registered. */
  private registeredDate(birthMs: number): string {
    const full = iso(birthMs);
    const year = Number(full.slice(0, 4));
    const r = this.random.next();
    const yearOnly = year < 1950 ? 0.3 : year < 1975 ? 0.05 : 0;
    const monthOnly = year < 1975 ? 0.05 : 0;
    if (r < yearOnly) return full.slice(0, 4);
    if (r < yearOnly + monthOnly) return full.slice(0, 7);
    return full;
  }

  private birthRegion(): Region {
    const r = this.random;
    return r.chance(SHARE_BORN_ABROAD) ? COUNTRIES[r.int(COUNTRIES.length)] : BIRTH_PROVINCES.pick(r);
  }

  private idNumber(region: Region, birthYear: number, gender: Gender): string {
    const prefix = region.code + centuryGenderDigits(birthYear, gender);
    const count = this.serialCounters.get(prefix) ?? 0;
    if (count >= SERIALS) throw new Error('serial range exhausted for one prefix');
    this.serialCounters.set(prefix, count + 1);
    const offset = Math.imul(Number(prefix), 0x9e3779b1) >>> 0; // a different start per prefix
    const serial = (count * SERIAL_STRIDE + offset) % SERIALS;
    return prefix + String(serial).padStart(6, '0');
  }

  private residence(birth: Region): string {
    const place = this.random.chance(0.7) && !birth.abroad ? birth : BIRTH_PROVINCES.pick(this.random);
    if (place.name.startsWith('Thành phố')) return place.name;
    return (CITIES.has(place.code) ? 'Thành phố ' : 'Tỉnh ') + place.name;
  }

  private legacyId(): string {
    const r = this.random;
    const prefix = CMND_PREFIXES[r.int(CMND_PREFIXES.length)];
    return prefix + String(r.int(10_000_000)).padStart(7, '0');
  }
}

/** NDJSON lines of a synthetic population, in batches (for streaming to a file or a build). */
export function* syntheticLines(count: number, seed: number, batchSize = 4096): Generator<string[]> {
  const generator = new PopulationGenerator(seed);
  for (let done = 0; done < count; ) {
    const n = Math.min(batchSize, count - done);
    const batch = new Array<string>(n);
    for (let i = 0; i < n; i++) batch[i] = JSON.stringify(generator.next());
    done += n;
    yield batch;
  }
}
