import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadResult } from './load.js';

const run = promisify(execFile);

/** wrk (Debian package) drives more load per core than autocannon; absent, its figures are skipped. */
export async function wrkAvailable(): Promise<boolean> {
  try {
    await run('wrk', ['--version']).catch((err) => {
      // wrk prints its version and exits 1.
      if (!String(err.stdout ?? '').includes('wrk')) throw err;
    });
    return true;
  } catch {
    return false;
  }
}

// Each request takes the next body of the pool, so no two consecutive bodies are the same.
const SCRIPT = (bodiesFile: string, path: string, key: string) => `
local bodies = {}
for line in io.lines("${bodiesFile}") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${key}"
request = function()
  i = i + 1
  return wrk.format(nil, "${path}", nil, bodies[(i % #bodies) + 1])
end
`;

const MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };
const toMs = (text: string) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  return m ? Number(m[1]) * MS[m[2]] : NaN;
};

/** Closed-loop load with one wrk thread; latency percentiles from wrk's --latency table. */
export async function wrkLoad(opts: { url: string; path: string; key: string; bodies: string[]; connections: number; seconds: number }): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'idv-wrk-'));
  try {
    const bodiesFile = join(dir, 'bodies.txt');
    writeFileSync(bodiesFile, opts.bodies.join('\n'));
    writeFileSync(join(dir, 'load.lua'), SCRIPT(bodiesFile, opts.path, opts.key));
    const { stdout } = await run('wrk', ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency', '-s', join(dir, 'load.lua'), opts.url]);
    const percentile = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1] ?? '');
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    return {
      requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN),
      total: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN),
      p50: percentile('50'),
      p97_5: NaN, // wrk reports 50/75/90/99
      p99: percentile('99'),
      errors: socketErrors ? socketErrors.slice(1).reduce((s, n) => s + Number(n), 0) : 0,
      non2xx,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
