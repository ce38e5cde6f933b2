import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

/**
 * A bank's client of the service, typed from the published contract: api.d.ts is what
 * openapi-typescript generates from /openapi.json (npm run contract), and openapi-fetch
 * turns its paths into calls. Bodies and answers are checked by the compiler against the
 * contract; an error answer comes back as `error`, with its stable code.
 *
 *   const idv = identityClient('https://idv.example.vn', process.env.IDV_KEY!);
 *   const { data, error } = await idv.POST('/v1/verify', { body: { idNumber, fullName, dateOfBirth } });
 */
export function identityClient(baseUrl: string, apiKey: string) {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${apiKey}` } });
}

export type VerifyRequest = components['schemas']['VerifyRequest'];
export type VerifyResponse = components['schemas']['VerifyResponse'];
export type ErrorBody = components['schemas']['Error'];
