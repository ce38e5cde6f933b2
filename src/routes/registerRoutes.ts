import { ServiceError, validationError } from '../errors.js';
import { readBatch } from '../register/changes.js';
import type { Register } from '../register/thread.js';
import type { AuditNote } from '../http/exchange.js';
import type { HttpRequest } from '../http/uws.js';
import type { Verification } from './verifications.js';

import { CHANGES_PAGE_DEFAULT, CHANGES_PAGE_MAX as MAX_PAGE } from '../contract/schemas.js';

/**
 * POST /v1/records, admin scope: a batch of changes, all of it or nothing, durable before
 * the answer. Read, authenticated and audited as a verification is (app.ts).
 */
export function recordsEndpoint(register: Register, bodyLimit: number, maxChanges: number): Verification {
  return {
    scope: 'admin',
    limit: bodyLimit,
    handle(body, client, note) {
      const read = readBatch(body, maxChanges);
      if ('envelope' in read) throw validationError(read.field, read.envelope);
      if ('errors' in read) {
        const error = new ServiceError('INVALID_CHANGES');
        error.items = read.errors;
        throw error;
      }
      return register.apply(client.id, read.batch).then(({ answer, replayed }) => {
        note.result = replayed ? 'replayed' : 'applied';
        return { ...answer, replayed };
      });
    },
  };
}

/** A non-negative integer query parameter, or the default when absent. */
function queryInt(req: HttpRequest, name: string, fallback: number, max: number): number {
  const text = req.getQuery(name);
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) > max) throw validationError(name, `${name} must be an integer from 0 to ${max}`);
  return Number(text);
}

/**
 * GET /v1/changes?after=N&limit=M, admin scope: the change log in order. The position is
 * read from the request at once (uWS's request lives only as long as the handler).
 */
export function changesQuery(register: Register): (req: HttpRequest) => (note: AuditNote) => Promise<object> {
  return (req) => {
    const after = queryInt(req, 'after', 0, Number.MAX_SAFE_INTEGER);
    const limit = queryInt(req, 'limit', CHANGES_PAGE_DEFAULT, MAX_PAGE);
    if (limit === 0) throw validationError('limit', `limit must be an integer from 1 to ${MAX_PAGE}`);
    return (note) =>
      register.changes(after, limit).then((page) => {
        note.result = 'read';
        return { ...page, next: page.changes.at(-1)?.seq ?? after };
      });
  };
}
