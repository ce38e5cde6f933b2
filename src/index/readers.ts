import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describeProcess, isAlive, thisProcess, type ProcessId } from './processes.js';
import { currentBuildDir, isBuildName, isPartialName, OWNER_ONLY_DIR, OWNER_ONLY_FILE } from './layout.js';

/**
 * Every process that reads an index registers itself in DIR/readers/, naming the build
 * it reads, so that publishing a new build never deletes one still open. A build is
 * removed once no live process names it: by the next build, or by `idv gc`.
 */
const READERS = 'readers';

interface Registration extends ProcessId {
  build: string;
  since: string;
}

let registrations = 0;

function servedBuildName(indexDir: string): string | undefined {
  const path = currentBuildDir(indexDir);
  return path && basename(path);
}

export class ReaderRegistration {
  private constructor(
    private readonly file: string,
    /** The build this process reads: it stays on disk until released. */
    readonly buildPath: string,
  ) {}

  /**
   * Registers before opening, then checks the served build did not change meanwhile.
   * A build publishes by switching `current` first and reading registrations after, so
   * either it sees this one, or this process sees the new `current` and registers again.
   */
  static register(indexDir: string): ReaderRegistration {
    const dir = join(indexDir, READERS);
    mkdirSync(dir, { recursive: true, mode: OWNER_ONLY_DIR });
    const file = join(dir, `${process.pid}-${++registrations}.json`);
    for (;;) {
      const build = servedBuildName(indexDir);
      if (!build) throw new Error(`no index at ${indexDir} (build one with: idv build)`);
      const entry: Registration = { ...thisProcess(), build, since: new Date().toISOString() };
      writeFileSync(`${file}.tmp`, JSON.stringify(entry) + '\n', { mode: OWNER_ONLY_FILE });
      renameSync(`${file}.tmp`, file);
      if (servedBuildName(indexDir) === build) return new ReaderRegistration(file, join(indexDir, build));
    }
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}

/** Live registrations by build name; files of processes that have died are removed. */
export function liveReaders(indexDir: string): Map<string, ProcessId[]> {
  const dir = join(indexDir, READERS);
  const byBuild = new Map<string, ProcessId[]>();
  if (!existsSync(dir)) return byBuild;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const path = join(dir, name);
    let entry: Registration;
    try {
      entry = JSON.parse(readFileSync(path, 'utf8')) as Registration;
    } catch {
      continue; // released while being read
    }
    if (!isAlive(entry)) {
      rmSync(path, { force: true });
      continue;
    }
    byBuild.set(entry.build, [...(byBuild.get(entry.build) ?? []), entry]);
  }
  return byBuild;
}

export interface Cleanup {
  removed: string[];
  kept: { build: string; readers: string[] }[];
}

/**
 * Removes builds that are neither served nor read by a live process, and partial
 * builds left by killed runs. The caller holds the directory's build lock.
 */
export function removeUnusedBuilds(indexDir: string): Cleanup {
  const served = servedBuildName(indexDir);
  const readers = liveReaders(indexDir);
  const out: Cleanup = { removed: [], kept: [] };
  for (const name of readdirSync(indexDir)) {
    if (name === served || !(isBuildName(name) || isPartialName(name))) continue;
    if (!statSync(join(indexDir, name)).isDirectory()) continue;
    const users = isPartialName(name) ? undefined : readers.get(name);
    if (users?.length) {
      out.kept.push({ build: name, readers: users.map(describeProcess) });
      continue;
    }
    rmSync(join(indexDir, name), { recursive: true, force: true });
    out.removed.push(name);
  }
  return out;
}
