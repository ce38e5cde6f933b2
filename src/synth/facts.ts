import { readTsv } from '../packageFiles.js';
import { GIVEN_ROWS, MIDDLE_ROWS, SURNAME_ROWS } from '../domain/nameWords.js';
import { PROVINCES, COUNTRIES, type Region } from '../domain/regions.js';
import type { Gender } from '../domain/idNumber.js';
import { Weighted } from './random.js';

/** The reference tables of the generator: the name tables and src/synth/data (see docs/architecture.md). */
const DATA = 'src/synth/data/';

export const SURNAMES = new Weighted(SURNAME_ROWS.map((r) => r.surname), SURNAME_ROWS.map((r) => Number(r.suggested_weight_pct)));

function middles(gender: 'M' | 'F'): Weighted<string> {
  // Văn and Thị are drawn separately, by birth year, so they are left out here.
  const rows = MIDDLE_ROWS.filter((r) => r.gender === gender && r.middle !== 'Văn' && r.middle !== 'Thị');
  return new Weighted(rows.map((r) => r.middle), rows.map((r) => Number(r.persons_with_token)));
}
export const MIDDLES: Record<Gender, Weighted<string>> = { male: middles('M'), female: middles('F') };

export const GIVEN: Record<Gender, Weighted<string>> = {
  male: new Weighted(GIVEN_ROWS.map((r) => r.given), GIVEN_ROWS.map((r) => Number(r.per_10k_males))),
  female: new Weighted(GIVEN_ROWS.map((r) => r.given), GIVEN_ROWS.map((r) => Number(r.per_10k_females))),
};

const ages = readTsv(DATA + 'vn-age-distribution.tsv');
const ageGroups = ages.map((r) => [Number(r.age_min), r.age_max === '' ? 105 : Number(r.age_max)] as [number, number]);
export const AGE_GROUPS: Record<Gender, Weighted<[number, number]>> = {
  male: new Weighted(ageGroups, ages.map((r) => Number(r.male))),
  female: new Weighted(ageGroups, ages.map((r) => Number(r.female))),
};
const males = ages.reduce((s, r) => s + Number(r.male), 0);
const females = ages.reduce((s, r) => s + Number(r.female), 0);
export const FEMALE_SHARE = females / (males + females);

export const BIRTH_PROVINCES: Weighted<Region> = new Weighted(PROVINCES, PROVINCES.map((p) => p.population));
export { COUNTRIES };

/** Leading digits of old 9-digit CMND numbers (partial table in vn-id-structure.md). */
export const CMND_PREFIXES = ['01', '02', '03', '05', '07', '10', '11', '12', '13', '14', '16', '18', '19', '20', '21', '22', '26', '27', '29', '32', '35', '36', '38'];
