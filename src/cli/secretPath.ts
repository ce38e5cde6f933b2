import { resolve } from 'node:path';
import { defaultSecretPath } from '../index/secret.js';

/** --secret-file, else IDV_SECRET_FILE, else a secret kept beside the index directory (fine for a demo only). */
export function secretPath(flag: string | undefined, indexDir: string): string {
  return resolve(flag ?? process.env.IDV_SECRET_FILE ?? defaultSecretPath(resolve(indexDir)));
}
