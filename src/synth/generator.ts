import type { Citizen } from '../domain/citizen.js';
import { centuryGenderDigits, type Gender } from '../domain/idNumber.js';
import { titledProvinceName, type Region } from '../domain/regions.js';
import { AGE_GROUPS, BIRTH_PROVINCES, CMND_PREFIXES, COUNTRIES, FEMALE_SHARE, GIVEN, MIDDLES, SURNAMES } from './facts.js';
import { Random } from './random.js';

/**
 * A synthetic population drawn from the reference tables: the same seed gives the
 * same people in the same order. The census date is fixed (not "today") so that a
 * seed means the same population whenever it is generated.
 *
 * The population is a sequence of chunks of CHUNK_SIZE people, each generated on its
 * own (its own random stream and serial counters), so chunks can be made in parallel
 * and person i is the same whatever the population size.
 */
export const CHUNK_SIZE = 65_536;
// Serials interleave chunks: counter k of chunk c gets slot k * MAX_CHUNKS + c, so no
// two chunks can give the same serial. 2,048 chunks hold 134M people.
const MAX_CHUNKS = 2048;
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
// Serials are a bijection of the slot: the stride is odd and not a multiple of 5, so
// coprime with 10^6, so distinct slots give distinct serials.
const SERIAL_STRIDE = 7_654_321;
const SERIALS = 1_000_000;
const SLOTS_PER_CHUNK = Math.floor(SERIALS / MAX_CHUNKS);

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** YYYY-MM-DD of a UTC time (days-to-civil, H. Hinnant): a third of the cost of toISOString. */
function iso(ms: number): string {
  const z = Math.floor(ms / DAY_MS) + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${pad2(month)}-${pad2(day)}`;
}
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export class PopulationGenerator {
  private readonly random: Random;
  private readonly serialCounters = new Map<string, number>();
  private readonly lastByGender: Partial<Record<Gender, { fullName: string; dateOfBirth: string; birthMs: number }>> = {};

  /** The people of one chunk, from its first. */
  constructor(seed = 1, private readonly chunk = 0) {
    if (!Number.isInteger(chunk) || chunk < 0 || chunk >= MAX_CHUNKS) throw new Error(`chunk must be below ${MAX_CHUNKS}`);
    this.random = new Random((Math.imul(seed, 0x9e3779b1) ^ Math.imul(chunk + 1, 0x85ebca6b)) >>> 0);
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
    let region = this.birthRegion();
    let idNumber = this.idNumber(region, birthYear, gender);
    // A prefix whose serial slots in this chunk are used up: registered elsewhere instead.
    while (idNumber === undefined) idNumber = this.idNumber((region = this.birthRegion()), birthYear, gender);
    const citizen: Citizen = {
      idNumber,
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

  private idNumber(region: Region, birthYear: number, gender: Gender): string | undefined {
    const prefix = region.code + centuryGenderDigits(birthYear, gender);
    const count = this.serialCounters.get(prefix) ?? 0;
    if (count >= SLOTS_PER_CHUNK) return undefined;
    this.serialCounters.set(prefix, count + 1);
    const offset = Math.imul(Number(prefix), 0x9e3779b1) >>> 0; // a different start per prefix
    const serial = ((count * MAX_CHUNKS + this.chunk) * SERIAL_STRIDE + offset) % SERIALS;
    return prefix + String(serial).padStart(6, '0');
  }

  private residence(birth: Region): string {
    const place = this.random.chance(0.7) && !birth.abroad ? birth : BIRTH_PROVINCES.pick(this.random);
    return titledProvinceName(place);
  }

  private legacyId(): string {
    const r = this.random;
    const prefix = CMND_PREFIXES[r.int(CMND_PREFIXES.length)];
    return prefix + String(r.int(10_000_000)).padStart(7, '0');
  }
}

/** People `start` to `start + count - 1` of a population, in order, chunk after chunk. */
export function* syntheticCitizens(seed: number, start: number, count: number): Generator<Citizen> {
  let chunk = Math.floor(start / CHUNK_SIZE);
  let skip = start - chunk * CHUNK_SIZE;
  for (let left = count; left > 0; chunk++, skip = 0) {
    const generator = new PopulationGenerator(seed, chunk);
    for (let i = 0; i < skip; i++) generator.next();
    const n = Math.min(left, CHUNK_SIZE - skip);
    for (let i = 0; i < n; i++) yield generator.next();
    left -= n;
  }
}
