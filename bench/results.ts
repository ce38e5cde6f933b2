import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/tsv.js';

export interface EndpointFigures {
  requestsPerSecond: number;
  p50: number;
  p97_5: number;
  p99: number;
}

export interface ScaleResults {
  date: string;
  machine: string;
  scale: number;
  command: string;
  runs: number;
  seconds: number;
  index: { bytes: number; bytesPerCitizen: number; buildSeconds?: Record<string, number> };
  /** Medians over runs, by dispatch mode, then "endpoint @connections". */
  endpoints: Record<'pool' | 'inline', Record<string, EndpointFigures>>;
  unknownShareSeen: number;
}

const DIR = join(PACKAGE_ROOT, 'bench', 'results');

export function saveResults(results: ScaleResults): void {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, `scale-${results.scale}.json`), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'), renderAll());
}

function renderScale(r: ScaleResults): string {
  const rows: string[] = [];
  const ratios: string[] = [];
  for (const key of Object.keys(r.endpoints.pool)) {
    const [endpoint, rest] = key.split(' @');
    const [connections, tool = 'autocannon'] = rest.split(' ');
    const ms = (v: number | null) => (v === null || Number.isNaN(v) ? '–' : String(Math.round(v * 100) / 100));
    for (const mode of ['pool', 'inline'] as const) {
      const f = r.endpoints[mode][key];
      if (f) rows.push(`| ${endpoint} | ${tool} | ${connections} | ${mode} | ${Math.round(f.requestsPerSecond).toLocaleString('en')} | ${ms(f.p50)} | ${ms(f.p97_5)} | ${ms(f.p99)} |`);
    }
    const ratio = r.endpoints.pool[key].requestsPerSecond / r.endpoints.inline[key].requestsPerSecond;
    ratios.push(`${endpoint}, ${tool}, ${connections} connections: ×${ratio.toFixed(2)}`);
  }
  return [
    `## ${r.scale.toLocaleString('en')} citizens`,
    '',
    `Measured ${r.date} on ${r.machine}.`,
    `Command: \`${r.command}\`. Closed-loop load from autocannon and wrk (one thread), ${r.seconds} s per run, median of ${r.runs} runs per figure; pool and inline runs alternate, each in a fresh server process.`,
    `Index: ${(r.index.bytes / 1e6).toFixed(1)} MB on disk, ${r.index.bytesPerCitizen.toFixed(0)} bytes per citizen` +
      (r.index.buildSeconds ? `; built in ${Object.entries(r.index.buildSeconds).map(([p, s]) => `${p} ${s.toFixed(1)} s`).join(', ')}.` : '.'),
    `Verify bodies: ${(r.unknownShareSeen * 100).toFixed(1)}% answered not_found (10% of the pool are unknown ID numbers), which confirms bodies vary per request.`,
    '',
    '| endpoint | load generator | connections | dispatch | req/s | p50 ms | p97.5 ms | p99 ms |',
    '|---|---|---:|---|---:|---:|---:|---:|',
    ...rows,
    '',
    `Pool throughput over inline: ${ratios.join('; ')}.`,
    'autocannon records whole milliseconds (sub-millisecond percentiles read 0 or 1) and takes most of a core itself; wrk takes less, so its runs leave the server more of the 2 cores. wrk reports no p97.5.',
    '',
  ].join('\n');
}

export function renderAll(): string {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  const all = files.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as ScaleResults).sort((a, b) => a.scale - b.scale);
  return ['# Benchmark results', '', 'Regenerate a scale with `npm run bench -- --scale N` (default 1,000,000); each run rewrites its own section from bench/results/.', '', ...all.map(renderScale)].join('\n');
}
