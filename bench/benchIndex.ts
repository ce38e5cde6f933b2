import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentBuildDir } from '../src/index/layout.js';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { sha256Hex } from '../src/clients/clients.js';
import type { Limits } from '../src/clients/rateLimit.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { measureBuild, syntheticArgs } from './build.js';

/** The client key of bench runs: a bench index serves only on the loopback interface. */
export const BENCH_KEY = 'bench-key-not-secret';
/** The client id of BENCH_KEY in the bench clients file. */
export const BENCH_CLIENT = 'bench';
/** Limits no load reaches: the bench measures the service, not the client's allowance (the load repeats claims and misses on purpose). */
export const NO_LIMITS: Limits = { ratePerSecond: 1e9, burst: 1e9, dailyQuota: 1e15, mismatchesPerCitizen: 1e9, emptySearchesPerName: 1e9, emptySearchesPerDate: 1e9, emptySearchesPerHour: 1e9, notFoundPerHour: 1e9, pendingItems: 1e9 };
/** The synthetic population of every bench index. */
export const BENCH_SEED = 1;

const log = (text: string) => process.stderr.write(text + '\n');

/** An index of the current format and kind (sealed or not), built with the secret beside it. */
function indexUsable(dir: string, unsealed: boolean): boolean {
  const build = currentBuildDir(dir);
  if (!build) return false;
  try {
    void IndexReader.openBuild(build, Secret.load(defaultSecretPath(dir)), { values: unsealed ? 'unsealed' : 'sealed' }).close();
    return true;
  } catch (err) {
    log(`index in ${dir} cannot be used (${(err as Error).message}): rebuilding`);
    return false;
  }
}

export interface BenchIndex {
  dir: string;
  /** A clients file granting BENCH_KEY every scope. */
  clients: string;
}

/**
 * The bench index of `scale` synthetic citizens in .idv/, built when absent or stale.
 * `unsealed`: the same people in an index built --unsealed, served --unprotected, to
 * measure what the protections cost.
 */
export async function benchIndex(scale: number, rebuild = false, unsealed = false): Promise<BenchIndex> {
  const dir = join(PACKAGE_ROOT, '.idv', `bench-${scale}${unsealed ? '-unsealed' : ''}`);
  mkdirSync(dir, { recursive: true });
  if (rebuild || !indexUsable(dir, unsealed)) {
    log(`building ${scale} citizens in ${dir}${unsealed ? ' (unsealed)' : ''}`);
    await measureBuild(dir, syntheticArgs(scale, BENCH_SEED), true, unsealed ? ['--unsealed'] : []);
  }
  const clients = join(dir, 'clients.json');
  // Limits the load never reaches, and consent optional: the bench measures the service, not the client's allowance.
  // Scores shown: the matching evaluation draws its curves from them.
  // The load repeats claims and misses on purpose: no probing limits either.
  const limits = { ...NO_LIMITS, consentRequired: false, scores: true };
  writeFileSync(clients, JSON.stringify({ clients: [{ id: BENCH_CLIENT, keySha256: sha256Hex(BENCH_KEY), scopes: ['verify', 'demographic', 'batch'], ...limits }] }));
  return { dir, clients };
}
