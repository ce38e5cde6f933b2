import { join } from 'node:path';
import { PACKAGE_ROOT } from './packageFiles.js';

/**
 * Worker entry points run as compiled JavaScript (a worker thread does not inherit a
 * TypeScript loader), so they are resolved in dist/ even when the caller runs from src/.
 */
export function workerPath(name: 'ingest' | 'verify' | 'synth'): string {
  return join(PACKAGE_ROOT, 'dist', 'workers', `${name}.js`);
}
