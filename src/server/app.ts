import { randomBytes } from 'node:crypto';
import type { ServeConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import { readBody } from './body.js';
import type { Client, ClientRegistry, Scope } from './clients.js';
import { CONTENT_TYPES, decodeBody, encodeBody, requestFormat, responseFormat, type Format } from './codec.js';
import type { Dispatcher } from './dispatch.js';
import type { Metrics } from './metrics.js';
import { OPENAPI } from './openapi.js';
import { RateLimiter } from './rateLimit.js';
import { App, closeListenSocket, listenSocketPort, type HttpRequest, type HttpResponse, type us_listen_socket } from './uws.js';
import { asObject, batchItem, batchItems, demographicItem, idItem } from './validate.js';

export interface ServerDeps {
  config: Readonly<ServeConfig>;
  dispatcher: Dispatcher;
  clients: ClientRegistry;
  metrics: Metrics;
  records: number;
  log?: (event: Record<string, unknown>) => void;
}

export interface RunningServer {
  port: number;
  /** Stops accepting, waits for in-flight requests (up to the grace period), then stops the workers. */
  close(): Promise<void>;
}

type Route = '/v1/verify' | '/v1/verify/demographic' | '/v1/verify/batch';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};
const statusLine = (status: number) => `${status} ${STATUS_TEXT[status]}`;
const OPENAPI_JSON = JSON.stringify(OPENAPI);

/** One request's state: what was read from `req` up front, and whether `res` may still be used. */
class Exchange {
  closed = false;
  readonly started = performance.now();
  format: Format = 'json';
  constructor(readonly res: HttpResponse, readonly route: string, readonly requestId: string, readonly accept: string) {}
}

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, dispatcher, clients, metrics } = deps;
  const log = deps.log ?? (() => {});
  const limiter = new RateLimiter();
  const bootId = randomBytes(4).toString('hex');
  let sequence = 0;
  let ready = true;
  let open = 0;
  metrics.indexRecords.set(deps.records);
  metrics.ready.set(1);

  const send = (ex: Exchange, status: number, body: unknown, headers: Record<string, string> = {}, closeConnection = false) => {
    if (ex.closed) return;
    ex.closed = true;
    open--;
    const format = responseFormat(ex.accept, ex.format);
    const payload = encodeBody(body, format);
    ex.res.cork(() => {
      ex.res.writeStatus(statusLine(status)).writeHeader('content-type', CONTENT_TYPES[format]).writeHeader('x-request-id', ex.requestId);
      for (const [k, v] of Object.entries(headers)) ex.res.writeHeader(k, v);
      ex.res.end(payload, closeConnection);
    });
    metrics.requests.inc({ route: ex.route, status });
    metrics.duration.observe({ route: ex.route }, (performance.now() - ex.started) / 1000);
  };

  const fail = (ex: Exchange, err: unknown, closeConnection = false) => {
    const error = err instanceof ServiceError ? err : new ServiceError('INTERNAL');
    if (!(err instanceof ServiceError)) log({ level: 'error', msg: 'request failed', requestId: ex.requestId, err: String((err as Error)?.stack ?? err) });
    metrics.errors.inc({ code: error.code });
    const headers: Record<string, string> = error.status === 503 ? { 'retry-after': String(config.retryAfterSeconds) } : {};
    send(ex, error.status, error.toBody(), headers, closeConnection);
  };

  const begin = (res: HttpResponse, req: HttpRequest, route: string) => {
    open++;
    const ex = new Exchange(res, route, `${bootId}-${(++sequence).toString(36)}`, req.getHeader('accept'));
    res.onAborted(() => {
      if (!ex.closed) open--;
      ex.closed = true;
    });
    return ex;
  };

  const authorize = (req: HttpRequest, scope: Scope): Client => {
    const client = clients.authenticate(req.getHeader('authorization'));
    if (!client) throw new ServiceError('UNAUTHORIZED');
    if (!client.scopes.has(scope)) throw new ServiceError('FORBIDDEN');
    if (!limiter.take(client)) throw new ServiceError('RATE_LIMITED');
    return client;
  };

  const handlers: Record<Route, { scope: Scope; limit: number; handle: (body: unknown, client: Client) => Promise<unknown> }> = {
    '/v1/verify': { scope: 'verify', limit: config.bodyLimitBytes, handle: (body) => runSingle(idItem(asObject(body, 'body'))) },
    '/v1/verify/demographic': { scope: 'demographic', limit: config.bodyLimitBytes, handle: (body) => runSingle(demographicItem(asObject(body, 'body'))) },
    '/v1/verify/batch': { scope: 'batch', limit: config.batchBodyLimitBytes, handle: (body, client) => runBatch(asObject(body, 'body'), client) },
  };

  const countResult = (item: WorkItem, result: WorkResult) => {
    if ('result' in result) metrics.results.inc({ kind: item.type, result: result.result });
  };

  async function runSingle(item: WorkItem): Promise<WorkResult> {
    const [result] = await dispatcher.run([item]);
    if ('error' in result) throw new ServiceError(result.error.code);
    countResult(item, result);
    return result;
  }

  async function runBatch(body: Record<string, unknown>, client: Client): Promise<unknown> {
    const raw = batchItems(body, config.batchMaxItems);
    const results: unknown[] = new Array(raw.length);
    const items: WorkItem[] = [];
    const slots: number[] = [];
    raw.forEach((value, i) => {
      try {
        const item = batchItem(value);
        const scope: Scope = item.type === 'id' ? 'verify' : 'demographic';
        if (!client.scopes.has(scope)) throw new ServiceError('FORBIDDEN');
        items.push(item);
        slots.push(i);
      } catch (err) {
        results[i] = (err instanceof ServiceError ? err : new ServiceError('INTERNAL')).toBody();
      }
    });
    const answers = items.length ? await dispatcher.run(items) : [];
    answers.forEach((answer, k) => {
      countResult(items[k], answer);
      results[slots[k]] = 'error' in answer ? answer : { type: items[k].type, ...answer };
    });
    return { results };
  }

  const post = (route: Route) => (res: HttpResponse, req: HttpRequest) => {
    const ex = begin(res, req, route);
    const handler = handlers[route];
    try {
      if (!ready) throw new ServiceError('NOT_READY');
      const client = authorize(req, handler.scope);
      const format = requestFormat(req.getHeader('content-type'));
      if (!format) throw new ServiceError('UNSUPPORTED_MEDIA_TYPE');
      ex.format = format;
      const declared = Number(req.getHeader('content-length') || '0');
      // Refused before reading: the connection is closed so the rest is never read.
      if (declared > handler.limit) return fail(ex, new ServiceError('BODY_TOO_LARGE'), true);
      readBody(res, handler.limit, (outcome) => {
        if (!outcome.ok) return fail(ex, new ServiceError('BODY_TOO_LARGE'), true);
        let pending: Promise<unknown>;
        try {
          pending = handler.handle(decodeBody(outcome.body, format), client);
        } catch (err) {
          return fail(ex, err);
        }
        pending.then((result) => send(ex, 200, { requestId: ex.requestId, ...(result as object) }), (err) => fail(ex, err));
      });
    } catch (err) {
      fail(ex, err);
    }
  };

  const simple = (route: string, respond: (ex: Exchange) => void) => (res: HttpResponse, req: HttpRequest) => {
    const ex = begin(res, req, route);
    try {
      respond(ex);
    } catch (err) {
      fail(ex, err);
    }
  };
  const errorRoute = (code: 'NOT_FOUND' | 'METHOD_NOT_ALLOWED') => simple(code === 'NOT_FOUND' ? 'unmatched' : 'wrong-method', (ex) => fail(ex, new ServiceError(code)));

  const app = App();
  for (const route of Object.keys(handlers) as Route[]) app.post(route, post(route)).any(route, errorRoute('METHOD_NOT_ALLOWED'));
  app
    .get('/healthz', simple('/healthz', (ex) => send(ex, 200, { status: 'ok' })))
    .get('/readyz', simple('/readyz', (ex) => send(ex, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', records: deps.records })))
    .get('/openapi.json', simple('/openapi.json', (ex) => {
      if (ex.closed) return;
      ex.closed = true;
      open--;
      ex.res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(OPENAPI_JSON);
      metrics.requests.inc({ route: ex.route, status: 200 });
    }))
    .get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      metrics.registry.metrics().then((text) => {
        if (!aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', metrics.registry.contentType).end(text));
      });
    })
    .any('/*', errorRoute('NOT_FOUND'));

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (socket) => (socket ? resolve(socket) : reject(new Error(`cannot listen on ${config.host}:${config.port}`))));
  });
  const port = listenSocketPort(listenSocket);
  log({ level: 'info', msg: 'listening', host: config.host, port, records: deps.records, dispatch: config.dispatch, threads: config.threads });

  return {
    port,
    async close() {
      ready = false;
      metrics.ready.set(0);
      closeListenSocket(listenSocket);
      const deadline = performance.now() + config.shutdownGraceMs;
      while (open > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await dispatcher.close();
      const closeAll = (app as unknown as { close?: () => void }).close;
      if (typeof closeAll === 'function') closeAll.call(app);
    },
  };
}

