import { randomBytes } from 'node:crypto';
import type { ServeConfig } from '../config.js';
import { logs } from '../log.js';
import { rateLimited, ServiceError } from '../errors.js';
import { readBody, type Linger } from '../http/body.js';
import type { LiveState } from '../service/liveState.js';
import { Admission, type Ticket } from '../clients/admission.js';
import type { ClientRegistry, Scope, Client } from '../clients/clients.js';
import { decodeBody, requestFormat } from '../http/codec.js';
import type { Dispatcher } from '../service/dispatch.js';
import { Exchanges, type AuditNote, type Exchange, type Log } from '../http/exchange.js';
import type { Metrics } from '../service/metrics.js';
import { openApiDocument } from '../contract/openapi.js';
import { RequestValidator } from '../contract/validator.js';
import { RateLimiter } from '../clients/rateLimit.js';
import { ProbeGuard, UNGUARDED, type AnswerGuard } from '../clients/probing.js';
import { App, closeListenSocket, listenExclusively, listenShared, listenSocketPort, uwsBuild, type HttpRequest, type HttpResponse, type TemplatedApp } from '../http/uws.js';
import { verifications, type Verification, type VerificationRoute } from './verifications.js';
import type { AuditEntry } from '../audit/trail.js';
import type { CandidateRefs } from '../verification/candidateRef.js';
import type { Register } from '../register/thread.js';
import { changesQuery, recordsEndpoint } from './registerRoutes.js';

export interface ServerDeps {
  config: Readonly<ServeConfig>;
  dispatcher: Dispatcher;
  clients: ClientRegistry;
  metrics: Metrics;
  /** The citizens held now (the register's count), for /readyz. */
  state: LiveState;
  log?: Log;
  /** Where each decision is recorded (the audit trail); none in tests that do not need it. */
  audit?: (entry: AuditEntry) => void;
  /** Opens the candidate references that searches hand out (the index secret's key). */
  candidateRefs: CandidateRefs;
  /** Shared with the other server threads when there are some; made here otherwise. */
  limiter?: RateLimiter;
  guard?: AnswerGuard;
  /** The /metrics page: this server's registry, unless the threads' registries are gathered elsewhere. */
  scrape?: () => Promise<{ contentType: string; text: string }>;
  /** One App per thread: listen with SO_REUSEPORT on the port the main thread reserved. */
  sharedPort?: boolean;
  /** The live register's writer (or the way to it); without it, /v1/records and /v1/changes are not served. */
  register?: Register;
}

export interface RunningServer {
  port: number;
  /** Stops accepting, waits for in-flight requests (up to the grace period), then stops the workers. */
  close(): Promise<void>;
}

/** One uWS App serving: a server thread's, or the whole server's in a single thread. */
export interface AppServer extends RunningServer {
  /**
   * Stops at once, for a thread that failed: no more connections taken, and every open
   * one closed where uWS can (20.34 and later), so nothing of uWS keeps its thread alive.
   */
  stop(): void;
}

/**
 * Authentication, scope, admission and rate limit, in that order: a stranger learns
 * nothing about scopes or rates, and a request refused admission costs no rate.
 */
function authorizer(clients: ClientRegistry, limiter: Pick<RateLimiter, 'take'>, metrics: Metrics, admission: Admission) {
  /** `items`: how many the headers suggest, for work the dispatcher will do; its ticket is given back when the exchange ends. */
  return (req: HttpRequest, scope: Scope, ex: Exchange, items?: number): { client: Client; ticket?: Ticket } => {
    const client = clients.authenticate(req.getHeader('authorization'));
    if (!client) throw new ServiceError('UNAUTHORIZED');
    ex.client = client.id;
    metrics.recordClientRequest(client.id);
    if (!client.scopes.has(scope)) throw new ServiceError('FORBIDDEN');
    const ticket = items === undefined ? undefined : admission.admit(client, items);
    if (ticket) ex.release = () => ticket.release();
    const refusal = limiter.take(client);
    if (refusal) throw rateLimited(refusal);
    return { client, ticket };
  };
}

/** What an audited route's handler is admitted by: readiness, then the client's key, scope, share of the thread and rate. */
interface Gate {
  exchanges: Exchanges;
  /** How long a body over its limit is still read before its 413. */
  linger: Linger;
  authorize: ReturnType<typeof authorizer>;
  isReady: () => boolean;
}

/**
 * An audited route's handler: ready and authorized for `scope` from the headers alone,
 * then `then`; a refusal at any step is the answer. Work for the dispatcher (`items`:
 * how many items the headers suggest) is admitted against the client's share first.
 */
function admitted(gate: Gate, route: string, scope: Scope, then: (ex: Exchange, client: Client, res: HttpResponse, req: HttpRequest, ticket?: Ticket) => void, items?: (req: HttpRequest) => number) {
  return (res: HttpResponse, req: HttpRequest) => {
    const ex = gate.exchanges.begin(res, req, route, true);
    const estimate = items?.(req);
    try {
      if (!gate.isReady()) throw new ServiceError('NOT_READY');
      const { client, ticket } = gate.authorize(req, scope, ex, estimate);
      then(ex, client, res, req, ticket);
    } catch (err) {
      // A batch refused from its headers closes the connection: its body (up to megabytes) is never read, and a flood's refusals stay cheap.
      ex.fail(err, estimate !== undefined && estimate > 1);
    }
  };
}

/** Reads and answers one verification request; everything before the body is checked from the headers alone. */
function verificationHandler(gate: Gate, route: string, v: Verification) {
  const contentLength = (req: HttpRequest) => Number(req.getHeader('content-length') || '0');
  return admitted(gate, route, v.scope, (ex, client, res, req, ticket) => {
    const format = requestFormat(req.getHeader('content-type'));
    if (!format) throw new ServiceError('UNSUPPORTED_MEDIA_TYPE');
    ex.format = format;
    // A body over the limit, declared or read, is refused 413 once read to its end (within a bound), then the connection closed.
    readBody(
      res,
      v.limit,
      (outcome) => {
        if (!outcome.ok) return ex.fail(new ServiceError('BODY_TOO_LARGE'), true);
        answer(ex, () => v.handle(decodeBody(outcome.body, format), client, ex.note ?? {}, ticket!));
      },
      { declaredTooLarge: contentLength(req) > v.limit, linger: gate.linger },
    );
  }, v.items && ((req) => v.items!(contentLength(req))));
}

/** Answers a request without a body (GET /v1/changes) as a verification's is: audited, authorized, then `query`. */
function queryHandler(gate: Gate, route: string, scope: Scope, query: (req: HttpRequest) => (note: AuditNote) => object | Promise<object>) {
  return admitted(gate, route, scope, (ex, _client, _res, req) => {
    const run = query(req);
    answer(ex, () => run(ex.note ?? {}));
  });
}

/** Sends the answer of `work`: at once when it was done here, when it settles otherwise. */
function answer(ex: Exchange, work: () => object | Promise<object>): void {
  const send = (result: object) => ex.send(200, { requestId: ex.requestId, ...result });
  try {
    const result = work();
    if (result instanceof Promise) result.then(send, (err) => ex.fail(err));
    else send(result);
  } catch (err) {
    ex.fail(err);
  }
}

function operationalRoutes(app: TemplatedApp, exchanges: Exchanges, scrape: () => Promise<{ contentType: string; text: string }>, state: LiveState, serving: () => boolean, openApiJson: string): void {
  const simple = (route: string, respond: (ex: Exchange) => void) => (res: HttpResponse, req: HttpRequest) => respond(exchanges.begin(res, req, route));
  app
    .get('/healthz', simple('/healthz', (ex) => ex.send(200, { status: 'ok' })))
    .get('/readyz', simple('/readyz', (ex) => {
      // Not ready while it shuts down, and while the state says why not (a replica behind, a fenced primary).
      const { unready, ...view } = state.view();
      const reason = serving() ? unready : 'shutting_down';
      ex.send(reason ? 503 : 200, { status: reason ? 'not_ready' : 'ready', ...(reason && { reason }), ...view });
    }))
    .get('/openapi.json', simple('/openapi.json', (ex) => ex.sendRaw(200, 'application/json', openApiJson)))
    .get('/metrics', simple('/metrics', (ex) => {
      scrape().then(({ contentType, text }) => ex.sendRaw(200, contentType, text), (err) => ex.fail(err));
    }))
    .any('/*', simple('unmatched', (ex) => ex.fail(new ServiceError('NOT_FOUND'))));
}

export async function startServer(deps: ServerDeps): Promise<AppServer> {
  const { config, dispatcher, metrics } = deps;
  const logging = { requests: logs(config.logLevel, 'debug'), clientErrors: config.logClientErrors && logs(config.logLevel, 'info') };
  const exchanges = new Exchanges(metrics, deps.log ?? (() => {}), config.retryAfterSeconds, randomBytes(4).toString('hex'), deps.audit, logging);
  // Measurement without protections (config.unprotected): nobody is limited.
  const rates = config.unprotected ? undefined : (deps.limiter ?? new RateLimiter());
  const limiter = rates ?? { take: () => undefined };
  if (rates) metrics.followQuotas(() => deps.clients.clients().map((c) => ({ client: c.id, ratio: rates.usedToday(c) / c.limits.dailyQuota })));
  let ready = true;
  // One App's share of the server: a server thread's when there are several.
  const admission = new Admission({ maxInFlightItems: config.maxInFlightItems, shedQueueDelayMs: config.shedQueueDelayMs, threads: deps.sharedPort ? config.threads : 1, retryAfterSeconds: config.retryAfterSeconds, sliceItems: config.sliceItems });
  metrics.inFlightSource = () => admission.total;
  const gate: Gate = { exchanges, linger: { ms: config.lingerMs, bytes: config.lingerBytes }, authorize: authorizer(deps.clients, limiter, metrics, admission), isReady: () => ready };
  metrics.recordsSource = () => deps.state.records;
  metrics.ready.set(1);

  const app = App();
  // A batch's first item was paid for with the request; the others once it is read.
  const chargeItems = (client: Client, items: number) => {
    const refusal = items > 1 ? limiter.take(client, items - 1) : undefined;
    if (refusal) throw rateLimited(refusal);
  };
  const wrongMethod = (res: HttpResponse, req: HttpRequest) => exchanges.begin(res, req, 'wrong-method').fail(new ServiceError('METHOD_NOT_ALLOWED'));
  const routes = verifications({ dispatcher, metrics, chargeItems, chargeWork: (client, units) => rates?.charge(client, units), batchMaxItems: config.batchMaxItems, validator: new RequestValidator(config), guard: config.unprotected ? UNGUARDED : (deps.guard ?? new ProbeGuard()), candidateRefs: deps.candidateRefs, bodyLimit: config.bodyLimitBytes, batchBodyLimit: config.batchBodyLimitBytes });
  for (const [route, v] of Object.entries(routes) as [VerificationRoute, Verification][]) {
    app.post(route, verificationHandler(gate, route, v));
    app.any(route, wrongMethod);
  }
  if (deps.register) {
    // The live register, admin scope only, audited as verifications are.
    app.post('/v1/records', verificationHandler(gate, '/v1/records', recordsEndpoint(deps.register, config.batchBodyLimitBytes, config.maxChangesPerBatch)));
    app.any('/v1/records', wrongMethod);
    app.get('/v1/changes', queryHandler(gate, '/v1/changes', 'admin', changesQuery(deps.register)));
    app.any('/v1/changes', wrongMethod);
  }
  const scrape = deps.scrape ?? (async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }));
  operationalRoutes(app, exchanges, scrape, deps.state, () => ready, JSON.stringify(openApiDocument(config)));

  const listenSocket = await (deps.sharedPort ? listenShared : listenExclusively)(app, config.host, config.port);
  const port = listenSocketPort(listenSocket);
  // A server thread's main thread says it once for all.
  if (!deps.sharedPort) exchanges.log({ level: 'info', msg: 'listening', host: config.host, port, records: deps.state.records, threads: 1, node: process.versions.node, uws: uwsBuild.version });

  let listening = true;
  const stopListening = () => {
    ready = false;
    metrics.ready.set(0);
    if (listening) closeListenSocket(listenSocket);
    listening = false;
  };
  // App.close (every connection closed) came with uWS 20.34: 20.30 has none.
  const closeConnections = () => (app as unknown as { close?: () => void }).close?.call(app);
  return {
    port,
    async close() {
      stopListening();
      const deadline = performance.now() + config.shutdownGraceMs;
      while (exchanges.open > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await dispatcher.close();
      closeConnections();
    },
    stop() {
      stopListening();
      closeConnections();
    },
  };
}
