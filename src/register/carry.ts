import { basename } from 'node:path';
import type { BuildOptions } from '../index/build.js';
import { currentBuildDir } from '../index/layout.js';
import type { Secret } from '../index/secret.js';
import { lastSequenceOf, RegisterWriter } from './writer.js';

/**
 * What a new build must say about the register's changes to the build served now, and the
 * hook that carries the later ones in before it is published. A build of a source that
 * does not say which changes it holds, over a build that has some, is refused at once:
 * publishing it would drop them.
 */
export async function changesForBuild(indexDir: string, secret: Secret, includesChanges: number | undefined): Promise<Pick<BuildOptions, 'changesFrom' | 'beforePublish'>> {
  const served = currentBuildDir(indexDir);
  if (!served) {
    if (includesChanges) throw new Error('--includes-changes: there is no served build whose changes the source could hold');
    return {};
  }
  let last: number;
  try {
    last = await lastSequenceOf(served, secret);
  } catch {
    // A build of another format or secret: this version cannot serve it, nor has it applied changes to it.
    return {};
  }
  if (includesChanges === undefined) {
    if (last > 0) throw new Error(`the served build ${basename(served)} has ${last} changes from the register: say how many the source holds with --includes-changes N (0 for none); the rest are carried into the new build`);
    return {};
  }
  if (includesChanges > last) throw new Error(`--includes-changes ${includesChanges}: the served build has ${last} changes`);
  return {
    changesFrom: { build: basename(served), through: includesChanges },
    beforePublish: async (path) => {
      const previous = RegisterWriter.open(served, secret);
      const next = RegisterWriter.open(path, secret);
      try {
        next.carryFrom(previous);
      } finally {
        await next.close();
        await previous.close();
      }
    },
  };
}
