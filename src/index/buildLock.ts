import { closeSync, fstatSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeProcess, isAlive, thisProcess, type ProcessId } from './processes.js';

export const LOCK_FILE = 'build.lock';

interface Holder extends ProcessId {
  since: string;
  task: string;
}

/** Another process holds the index directory: the message names it. */
export class IndexLockedError extends Error {
  readonly code = 'INDEX_LOCKED';
}

function readHolder(path: string): { holder?: Holder; ino: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const ino = fstatSync(fd).ino;
    try {
      return { holder: JSON.parse(readFileSync(fd, 'utf8')) as Holder, ino };
    } catch {
      return { ino };
    }
  } finally {
    closeSync(fd);
  }
}

/** Who holds the directory's build lock now, if a live process does. */
export function buildLockHolder(indexDir: string): string | undefined {
  const holder = readHolder(join(indexDir, LOCK_FILE))?.holder;
  return holder && isAlive(holder) ? `${holder.task} by ${describeProcess(holder)} since ${holder.since}` : undefined;
}

/**
 * Exclusive hold on an index directory for a build (or a clean-up), so two builds can
 * never share a directory. The lock file is created whole with link(2), which fails
 * when the file exists; a lock whose holder has died is taken over.
 */
export class BuildLock {
  private constructor(
    private readonly path: string,
    private readonly ino: number,
  ) {}

  /** `file`: the lock's name in the directory (the audit trail keeps one of its own). */
  static acquire(indexDir: string, task: string, file = LOCK_FILE): BuildLock {
    const path = join(indexDir, file);
    const me: Holder = { ...thisProcess(), since: new Date().toISOString(), task };
    const draft = `${path}.${me.pid}.${Date.now()}.draft`;
    writeFileSync(draft, JSON.stringify(me) + '\n', { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(draft, path);
          return new BuildLock(path, statSync(draft).ino);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const found = readHolder(path);
        if (!found) continue; // released in the meantime
        if (!found.holder) throw new IndexLockedError(`${indexDir} is locked by ${path}, which is not a lock this program wrote: remove it if no build runs`);
        if (isAlive(found.holder)) {
          throw new IndexLockedError(
            `${indexDir} is locked by another ${found.holder.task} (${describeProcess(found.holder)}, since ${found.holder.since}); wait for it to finish or stop it`,
          );
        }
        takeOverStale(path, found.ino);
      }
      throw new IndexLockedError(`${indexDir}: could not take the lock ${path} (other processes keep taking it)`);
    } finally {
      unlinkSync(draft);
    }
  }

  /** Throws unless the lock file is still this one: checked before anything is published. */
  assertHeld(): void {
    let ino: number | undefined;
    try {
      ino = statSync(this.path).ino;
    } catch {
      ino = undefined;
    }
    if (ino !== this.ino) throw new IndexLockedError(`the lock ${this.path} was taken from this process: refusing to publish`);
  }

  release(): void {
    try {
      if (statSync(this.path).ino === this.ino) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/**
 * Removes a dead holder's lock. Renaming it away first means that of two processes
 * taking over at once, the second cannot remove the lock the first has just written:
 * it finds it renamed another file, and puts that back.
 */
function takeOverStale(path: string, staleIno: number): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (statSync(aside).ino !== staleIno) {
    try {
      linkSync(aside, path);
    } catch {
      // A third process locked in between; the one whose lock this was finds it gone at assertHeld.
    }
  }
  unlinkSync(aside);
}
