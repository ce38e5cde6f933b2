import { spawnSync } from 'node:child_process';

/**
 * A Debian program that some tests drive for real (nginx, Prometheus, wrk, Python). Where
 * it is absent, those tests are skipped with one line naming the package to install, so
 * `npm test` on a fresh machine passes with the README's two commands; under CI=true (CI
 * installs every one of them) an absent program fails the run instead of skipping.
 *
 * Returns the program's path, or undefined when the tests that need it are to be skipped.
 */
export function debianTool(program: string, pkg: string, tests: string): string | undefined {
  const found = ['', '/usr/sbin/', '/usr/bin/']
    .map((dir) => dir + program)
    .find((path) => spawnSync(path, ['--version'], { stdio: 'ignore' }).error === undefined);
  if (found) return found;
  if (process.env.CI === 'true') throw new Error(`${program} not found (apt-get install ${pkg}; .ci/run installs it): ${tests} cannot run`);
  process.stderr.write(`${program} not found (apt-get install ${pkg}): skipping ${tests}\n`);
  return undefined;
}
