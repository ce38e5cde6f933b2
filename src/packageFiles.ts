import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root, found by walking up from this file: the same code runs from
 * src/ (tests) and from dist/src/ (compiled), and the data files live in src/ only.
 */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
})();

/** Reads a tab-separated file (path relative to the package root) into one object per row. */
export function readTsv(relativePath: string): Record<string, string>[] {
  const [header, ...rows] = readFileSync(join(PACKAGE_ROOT, relativePath), 'utf8').trimEnd().split('\n');
  const names = header.split('\t');
  return rows.map((row) => {
    const cells = row.split('\t');
    return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']));
  });
}
