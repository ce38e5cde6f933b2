import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { currentBuildDir, DB_FILE } from '../src/index/layout.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';

export interface BuildFigures {
  records: number;
  wallSeconds: number;
  phaseSeconds: Record<string, number>;
  recordsPerSecond: Record<string, number>;
  indexBytes: number;
  bytesPerCitizen: number;
  /** Peak anonymous resident memory (RssAnon): the mapped index pages are file-backed and excluded. */
  peakAnonBytes: number;
  peakRssBytes: number;
}

function memoryOf(pid: number): { anon: number; rss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { anon: kb('RssAnon'), rss: kb('VmRSS') };
  } catch {
    return { anon: 0, rss: 0 };
  }
}

/** `idv build` of the synthetic population, or of a file. */
export const syntheticArgs = (count: number, seed: number) => ['--synthetic', String(count), '--seed', String(seed)];

/** Runs `idv build <source args>` in a child process, sampling its memory every 250 ms. */
export async function measureBuild(indexDir: string, sourceArgs: string[], fresh: boolean, extraArgs: string[] = []): Promise<BuildFigures> {
  if (fresh) rmSync(indexDir, { recursive: true, force: true });
  const started = performance.now();
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'idv.js'), 'build', ...sourceArgs, '--index', indexDir, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let peakAnon = 0;
  let peakRss = 0;
  const timer = setInterval(() => {
    const m = memoryOf(child.pid!);
    peakAnon = Math.max(peakAnon, m.anon);
    peakRss = Math.max(peakRss, m.rss);
  }, 250);
  let summary: { records: number; seconds: Record<string, number> } | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const event = JSON.parse(line);
    if (event.msg === 'index built') summary = event;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  if (code !== 0 || !summary) throw new Error(`build exited with code ${code}`);
  const indexBytes = statSync(join(currentBuildDir(indexDir)!, DB_FILE)).size;
  const figures: BuildFigures = {
    records: summary.records,
    wallSeconds: (performance.now() - started) / 1000,
    phaseSeconds: summary.seconds,
    recordsPerSecond: Object.fromEntries(Object.entries(summary.seconds).map(([p, s]) => [p, Math.round(summary!.records / s)])),
    indexBytes,
    bytesPerCitizen: indexBytes / summary.records,
    peakAnonBytes: peakAnon,
    peakRssBytes: peakRss,
  };
  // Kept beside the index, so a later run of the suite on it reports how it was built.
  writeFileSync(join(indexDir, BUILD_FIGURES), JSON.stringify(figures, null, 2) + '\n');
  return figures;
}

export const BUILD_FIGURES = 'build-figures.json';

export function readBuildFigures(indexDir: string): BuildFigures | undefined {
  try {
    return JSON.parse(readFileSync(join(indexDir, BUILD_FIGURES), 'utf8'));
  } catch {
    return undefined;
  }
}

// `node dist-bench/bench/build.js N`: one measured build, printed as JSON.
if (process.argv[1]?.endsWith('bench/build.js') && process.argv[2]) {
  const count = Number(process.argv[2]);
  const dir = join(PACKAGE_ROOT, '.idv', `bench-${count}`);
  measureBuild(dir, syntheticArgs(count, 1), true).then((f) => process.stdout.write(JSON.stringify(f, null, 2) + '\n'));
}
