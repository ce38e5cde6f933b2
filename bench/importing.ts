import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { measureBuild, type BuildFigures } from './build.js';
import { machine, today } from './machine.js';
import { savedRuns, saveRun, writeReport } from './report.js';

/**
 * Importing a register file: `idv gen` writes the population as NDJSON (and, converted,
 * as CSV), `idv build --input` imports each, and `idv check` re-reads each against
 * its index, which must report no difference.
 *   npm run bench:import                              1,000,000 citizens
 *   npm run bench:import -- --scale 98000000          the national file (about 25 GB)
 */
const { values: args } = parseArgs({ options: { scale: { type: 'string', default: '1000000' }, formats: { type: 'string', default: 'ndjson,csv' } } });
const scale = Number(args.scale);
const formats = args.formats!.split(',') as ('ndjson' | 'csv')[];
const IDV = join(PACKAGE_ROOT, 'bin', 'idv.js');
const DIR = join(PACKAGE_ROOT, '.idv');
const log = (text: string) => process.stderr.write(text + '\n');

export interface ImportFigures {
  format: 'ndjson' | 'csv';
  fileBytes: number;
  build: BuildFigures;
  checkSeconds: number;
  differences: number;
  sameSourceAsBuild: boolean;
  /** Written by hand into the saved run when something disturbed the measurement. */
  note?: string;
}

export interface ImportResults {
  date: string;
  machine: string;
  scale: number;
  command: string;
  imports: ImportFigures[];
}

const COLUMNS = ['idNumber', 'fullName', 'dateOfBirth', 'gender', 'placeOfOrigin', 'placeOfResidence', 'legacyIdNumber', 'cardIssueDate', 'status', 'cardStatus'];

function run(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [IDV, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout })));
}

/** The register file of `scale` people in a format, made once and kept in .idv/. */
async function registerFile(format: 'ndjson' | 'csv'): Promise<string> {
  const path = join(DIR, `import-${scale}.${format}`);
  if (existsSync(path)) return path;
  mkdirSync(DIR, { recursive: true });
  if (format === 'ndjson') {
    log(`generating ${scale} people into ${path}`);
    if ((await run(['gen', '--count', String(scale), '--out', path + '.tmp'])).code !== 0) throw new Error('idv gen failed');
  } else {
    const source = await registerFile('ndjson');
    log(`converting ${source} to CSV`);
    const lines = createInterface({ input: createReadStream(source), crlfDelay: Infinity });
    const rows = (async function* () {
      for await (const line of lines) if (line) yield JSON.parse(line);
    })();
    await pipeline(rows, stringify({ header: true, columns: COLUMNS }), createWriteStream(path + '.tmp', { mode: 0o600 }));
  }
  renameSync(path + '.tmp', path);
  return path;
}

async function measureImport(format: 'ndjson' | 'csv'): Promise<ImportFigures> {
  const file = await registerFile(format);
  const indexDir = join(DIR, `import-${scale}-${format}-index`);
  const secretFile = join(DIR, `import-${scale}-secret.hex`);
  log(`building from ${file}`);
  const build = await measureBuild(indexDir, ['--input', file], true, ['--secret-file', secretFile]);
  log(`checking ${file} against its index`);
  const started = performance.now();
  const checked = await run(['check', '--index', indexDir, '--input', file, '--secret-file', secretFile]);
  const checkSeconds = (performance.now() - started) / 1000;
  const summary = JSON.parse(checked.stdout.trim().split('\n').pop()!).summary as { differences: number; sameSourceAsBuild: boolean };
  rmSync(indexDir, { recursive: true, force: true });
  return { format, fileBytes: statSync(file).size, build, checkSeconds, differences: summary.differences, sameSourceAsBuild: summary.sameSourceAsBuild };
}

// Each format is saved as soon as it is measured, beside the last run of the other formats at this scale.
const previous = savedRuns<ImportResults>('import').find((r) => r.scale === scale);
const imports = (previous?.imports ?? []).filter((i) => !formats.includes(i.format));
for (const format of formats) {
  const figures = await measureImport(format);
  imports.push(figures);
  imports.sort((a, b) => a.format.localeCompare(b.format));
  const results: ImportResults = { date: today(), machine: machine(), scale, command: `npm run bench:import -- --scale ${scale}`, imports };
  saveRun('import', results);
  writeReport();
  process.stdout.write(JSON.stringify(figures) + '\n');
  if (figures.differences !== 0 || !figures.sameSourceAsBuild) process.exitCode = 1;
}
