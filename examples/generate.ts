import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { DEFAULTS } from '../src/config.js';
import { openApiDocument } from '../src/contract/openapi.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';

/**
 * The published contract and the client types generated from it, as a client would make
 * them (openapi-typescript on /openapi.json), for the default limits:
 * openapi.json at the top of the package, examples/client/api.d.ts beside the client.
 *   npm run contract
 * A test regenerates both and fails if the committed ones differ.
 */
export const CONTRACT_FILE = join(PACKAGE_ROOT, 'openapi.json');
export const CLIENT_TYPES_FILE = join(PACKAGE_ROOT, 'examples', 'client', 'api.d.ts');

export const contractText = () => JSON.stringify(openApiDocument(DEFAULTS), null, 2) + '\n';

export async function clientTypesText(): Promise<string> {
  return COMMENT_HEADER + astToString(await openapiTS(contractText()));
}

if (process.argv[1]?.endsWith('examples/generate.js')) {
  writeFileSync(CONTRACT_FILE, contractText());
  writeFileSync(CLIENT_TYPES_FILE, await clientTypesText());
  process.stdout.write(`wrote ${CONTRACT_FILE} and ${CLIENT_TYPES_FILE}\n`);
}
