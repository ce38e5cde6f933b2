import { readTsv } from '../packageFiles.js';

/** Birth-registration places that can open a 12-digit ID number (Thông tư 07/2016, Phụ lục I and II). */
export interface Region {
  code: string;
  name: string;
  population: number;
  abroad: boolean;
}

export const PROVINCES: readonly Region[] = readTsv('src/domain/data/vn-id-provinces.tsv').map((r) => ({
  code: r.code,
  name: r.name,
  population: Number(r.population_2019),
  abroad: false,
}));

export const COUNTRIES: readonly Region[] = readTsv('src/domain/data/vn-id-country-codes.tsv').map((r) => ({
  code: r.code,
  name: r.name_vi,
  population: 0,
  abroad: true,
}));

const BY_CODE = new Map<string, Region>([...PROVINCES, ...COUNTRIES].map((r) => [r.code, r]));

export function regionByCode(code: string): Region | undefined {
  return BY_CODE.get(code);
}

// Centrally-run cities: their registered name carries "Thành phố" rather than "Tỉnh".
const CITY_CODES = new Set(['001', '031', '048', '079', '092']);

/** A province as written with its administrative title ("Tỉnh Nam Định", "Thành phố Hà Nội"). */
export function titledProvinceName(province: Region): string {
  if (province.name.startsWith('Thành phố')) return province.name;
  return (CITY_CODES.has(province.code) ? 'Thành phố ' : 'Tỉnh ') + province.name;
}
