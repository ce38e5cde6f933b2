import { loggableError, ServiceError } from '../errors.js';
import { CONTENT_TYPES, encodeBody, responseFormat, type Format } from './codec.js';
import type { Metrics } from '../service/metrics.js';
import type { HttpRequest, HttpResponse } from './uws.js';
import type { AuditEntry } from '../audit/trail.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

export type { Log } from '../log.js';
import type { Log } from '../log.js';

/** Which answers get a log line of their own (5xx always do, with their stack). */
export interface AnswerLogging {
  /** Every answer, at debug. */
  requests: boolean;
  /** Every 4xx, at info. */
  clientErrors: boolean;
}

/** What one item of a verification is about, for the audit trail. */
export interface ItemNote {
  type?: 'id' | 'demographic';
  idNumber?: string;
  purpose?: string;
  consentRef?: string;
  /** The ID numbers of the citizens the answer reached (hashed when written). */
  found?: string[];
  result?: string;
  code?: string;
}

/** What the audit trail keeps of a verification request, filled in as it is read and answered. */
export interface AuditNote extends ItemNote {
  /** A batch's items, each recorded on its own. */
  items?: ItemNote[];
}

/** What every exchange shares: metrics, the log, Retry-After, and the count of unanswered requests (for draining). */
export class Exchanges {
  open = 0;
  private sequence = 0;
  constructor(
    readonly metrics: Metrics,
    readonly log: Log,
    readonly retryAfterSeconds: number,
    private readonly bootId: string,
    private readonly audit?: (entry: AuditEntry) => void,
    readonly logging: AnswerLogging = { requests: false, clientErrors: false },
  ) {}

  /**
   * Starts an exchange. Reads what it needs from `req` now: `req` is only valid during the
   * handler. A verification's answer is about a person: no cache may keep it, and the
   * audit trail records it.
   */
  begin(res: HttpResponse, req: HttpRequest, route: string, verification = false): Exchange {
    this.open++;
    const ex = new Exchange(this, res, route, `${this.bootId}-${(++this.sequence).toString(36)}`, req.getHeader('accept'), verification);
    if (verification && this.audit) ex.note = {};
    res.onAborted(() => ex.abort());
    return ex;
  }

  recordDecision(ex: Exchange, note: AuditNote, status: number, code: string | undefined, latencyMs: number): void {
    recordDecision(this.audit!, { requestId: ex.requestId, endpoint: ex.route, client: ex.client ?? null, note, status, code, latencyMs, time: Date.now() });
  }
}

/** One audit record for a request, and one per batch item, all with the request's status, latency and time. */
export function recordDecision(
  audit: (entry: AuditEntry) => void,
  { requestId, endpoint, client, note, status, code, latencyMs, time }: { requestId: string; endpoint: string; client: string | null; note: AuditNote; status: number; code?: string; latencyMs: number; time: number },
): void {
  // Entries built member by member, all of one shape: this runs for every decision.
  audit({
    kind: 'decision', requestId, client, endpoint, item: undefined, type: note.type, purpose: note.purpose,
    consentRef: note.consentRef, idNumber: note.idNumber, found: note.found, result: note.result, status, code: code ?? note.code, latencyMs, time,
  });
  const items = note.items;
  if (!items) return;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    audit({
      kind: 'item', requestId, client, endpoint, item: i, type: item.type, purpose: item.purpose,
      consentRef: item.consentRef, idNumber: item.idNumber, found: item.found, result: item.result, status, code: item.code, latencyMs, time,
    });
  }
}

/**
 * One request and its answer. uWS forbids touching `res` after the client went away or
 * after `end`, so every write goes through here and checks `closed` first.
 */
export class Exchange {
  closed = false;
  format: Format = 'json';
  /** Set on audited routes: filled in by the handler, recorded when the request ends. */
  note?: AuditNote;
  /** The authenticated client's id, once known: its refusals are counted and its decisions audited under it (null in the trail when no key was recognised). */
  client?: string;
  /** Gives back the request's admission when it ends, answered or abandoned. */
  release?: () => void;
  private code?: string;
  private readonly started = performance.now();

  constructor(
    private readonly shared: Exchanges,
    readonly res: HttpResponse,
    readonly route: string,
    readonly requestId: string,
    private readonly accept: string,
    private readonly personal: boolean,
  ) {}

  abort(): void {
    if (this.finish()) this.audit(0, 'CLIENT_GONE');
  }

  /** Answers in the negotiated format. Corked: this may run after an await, outside uWS's own cork. */
  send(status: number, body: unknown, headers: Record<string, string> = {}, closeConnection = false): void {
    const format = responseFormat(this.accept, this.format);
    this.sendRaw(status, CONTENT_TYPES[format], encodeBody(body, format), { 'x-request-id': this.requestId, ...headers }, closeConnection);
  }

  sendRaw(status: number, contentType: string, payload: string | Buffer, headers: Record<string, string> = {}, closeConnection = false): void {
    if (!this.finish()) return;
    this.res.cork(() => {
      this.res.writeStatus(`${status} ${STATUS_TEXT[status]}`).writeHeader('content-type', contentType);
      if (this.personal) this.res.writeHeader('cache-control', 'no-store');
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      this.res.end(payload, closeConnection);
    });
    const seconds = (performance.now() - this.started) / 1000;
    this.shared.metrics.recordAnswer(this.route, status, seconds);
    this.audit(status, this.code);
    const { logging } = this.shared;
    if (((status >= 400 && status < 500) || this.code === 'OVERLOADED') && logging.clientErrors) this.shared.log({ level: 'info', msg: 'refused', ...this.logFields(status) });
    else if (logging.requests) this.shared.log({ level: 'debug', msg: 'answered', ...this.logFields(status), ms: +(seconds * 1000).toFixed(3) });
  }

  /** What a line about this exchange says: ids and codes, never the body. */
  private logFields(status: number): Record<string, unknown> {
    return { requestId: this.requestId, route: this.route, status, code: this.code, client: this.client };
  }

  private audit(status: number, code: string | undefined): void {
    if (this.note) this.shared.recordDecision(this, this.note, status, code, +(performance.now() - this.started).toFixed(3));
  }

  /** Answers with the catalogue entry of a ServiceError; anything else is logged and becomes INTERNAL. */
  fail(err: unknown, closeConnection = false): void {
    const error = err instanceof ServiceError ? err : new ServiceError('INTERNAL');
    // Every 5xx, with where it was thrown: an unexpected error's own stack, or the refusal's.
    // Shedding is not a failure, and comes by the thousand under overload: it is counted, and logged as 4xx refusals are.
    if (error.status >= 500 && error.code !== 'OVERLOADED') {
      this.shared.log({ level: 'error', msg: 'request failed', requestId: this.requestId, route: this.route, status: error.status, code: error.code, client: this.client, ...loggableError(err) });
    }
    this.shared.metrics.errors.inc({ code: error.code });
    if (this.client !== undefined) this.shared.metrics.recordClientRefusal(this.client, error.code);
    this.code = error.code;
    const retryAfter = error.retryAfterSeconds ?? (error.status === 503 ? this.shared.retryAfterSeconds : undefined);
    const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
    this.send(error.status, error.toBody(), headers, closeConnection);
  }

  /** Marks the exchange answered; false when it already was (or the client left). */
  private finish(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.shared.open--;
    this.release?.();
    return true;
  }
}
