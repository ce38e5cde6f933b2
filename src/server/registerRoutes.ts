import { ServiceError, validationError } from '../errors.js';
import { readBatch } from '../register/changes.js';
import type { Register } from '../register/thread.js';
import { readBody } from './body.js';
import type { Client, Scope } from './clients.js';
import { decodeBody, requestFormat } from './codec.js';
import type { AuditNote, Exchange, Exchanges } from './exchange.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';

const MAX_PAGE = 1000;

/** A non-negative integer query parameter, or the default when absent. */
function queryInt(req: HttpRequest, name: string, fallback: number, max: number): number {
  const text = req.getQuery(name);
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) > max) throw validationError(name, `${name} must be an integer from 0 to ${max}`);
  return Number(text);
}

/**
 * The live register, admin scope only: POST /v1/records applies a batch of changes (all of
 * it or nothing, durable before the answer); GET /v1/changes?after=N&limit=M reads the
 * change log in order. Both are audited like verifications.
 */
export function registerRoutes(
  app: TemplatedApp,
  opts: {
    exchanges: Exchanges;
    register: Register;
    authorize: (req: HttpRequest, scope: Scope, note?: AuditNote) => Client;
    isReady: () => boolean;
    bodyLimit: number;
    maxChanges: number;
  },
): void {
  const { exchanges, register } = opts;
  const begin = (res: HttpResponse, req: HttpRequest, route: string): { ex: Exchange; client: Client } | undefined => {
    const ex = exchanges.begin(res, req, route, true);
    try {
      if (!opts.isReady()) throw new ServiceError('NOT_READY');
      return { ex, client: opts.authorize(req, 'admin', ex.note) };
    } catch (err) {
      ex.fail(err);
      return undefined;
    }
  };

  app.post('/v1/records', (res, req) => {
    const started = begin(res, req, '/v1/records');
    if (!started) return;
    const { ex, client } = started;
    const format = requestFormat(req.getHeader('content-type'));
    if (!format) return ex.fail(new ServiceError('UNSUPPORTED_MEDIA_TYPE'));
    ex.format = format;
    if (Number(req.getHeader('content-length') || '0') > opts.bodyLimit) return ex.fail(new ServiceError('BODY_TOO_LARGE'), true);
    readBody(res, opts.bodyLimit, (outcome) => {
      if (!outcome.ok) return ex.fail(new ServiceError('BODY_TOO_LARGE'), true);
      try {
        const read = readBatch(decodeBody(outcome.body, format), opts.maxChanges);
        if ('envelope' in read) throw validationError(read.field, read.envelope);
        if ('errors' in read) {
          const error = new ServiceError('INVALID_CHANGES');
          error.items = read.errors;
          throw error;
        }
        register.apply(client.id, read.batch).then(
          ({ answer, replayed }) => {
            if (ex.note) ex.note.result = replayed ? 'replayed' : 'applied';
            ex.send(200, { requestId: ex.requestId, ...answer, replayed });
          },
          (err) => ex.fail(err),
        );
      } catch (err) {
        ex.fail(err);
      }
    });
  });
  app.any('/v1/records', (res, req) => exchanges.begin(res, req, 'wrong-method').fail(new ServiceError('METHOD_NOT_ALLOWED')));

  app.get('/v1/changes', (res, req) => {
    const started = begin(res, req, '/v1/changes');
    if (!started) return;
    const { ex } = started;
    try {
      const after = queryInt(req, 'after', 0, Number.MAX_SAFE_INTEGER);
      const limit = queryInt(req, 'limit', 100, MAX_PAGE);
      if (limit === 0) throw validationError('limit', `limit must be an integer from 1 to ${MAX_PAGE}`);
      register.changes(after, limit).then(
        (page) => {
          if (ex.note) ex.note.result = 'read';
          ex.send(200, { requestId: ex.requestId, ...page, next: page.changes.at(-1)?.seq ?? after });
        },
        (err) => ex.fail(err),
      );
    } catch (err) {
      ex.fail(err);
    }
  });
  app.any('/v1/changes', (res, req) => exchanges.begin(res, req, 'wrong-method').fail(new ServiceError('METHOD_NOT_ALLOWED')));
}
