import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The tests import src/ as TypeScript, but worker threads (server, register, audit, build)
 * run the compiled dist/: a worker does not inherit vitest's TypeScript loader. So that the
 * two halves are one version, every test run starts with dist/ checked against the sources:
 * a source newer than its output stops the run (`npm test` compiles first).
 */
const ROOT = join(import.meta.dirname, '..', '..');

export default function builtFromSource(): void {
  const stale: string[] = [];
  for (const folder of ['src', 'workers']) {
    for (const file of readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const source = join(ROOT, folder, file);
      const output = join(ROOT, 'dist', folder, file.replace(/\.ts$/, '.js'));
      const built = statSync(output, { throwIfNoEntry: false });
      if (!built || built.mtimeMs < statSync(source).mtimeMs) stale.push(relative(ROOT, source));
    }
  }
  if (stale.length) throw new Error(`dist/ is older than ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ` and ${stale.length - 5} more` : ''}: run npm run build (npm test does), so that worker threads run the code under test`);
}
