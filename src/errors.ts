/**
 * The one catalogue of error codes. Codes are stable: clients, dashboards and
 * alerts key on them. docs/api.md lists every code; a test keeps both in step.
 */
export const ERRORS = {
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  // Answered by the TLS proxy in front of the service (deploy/nginx), from its HTTP parser.
  MALFORMED_REQUEST: { status: 400, message: 'The request is not well-formed HTTP (for example two Content-Length headers)' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers exceed the size limit' },
  INVALID_MSGPACK: { status: 400, message: 'The request body is not valid msgpack' },
  UNAUTHORIZED: { status: 401, message: 'Missing or unknown API key (send Authorization: Bearer <key>)' },
  FORBIDDEN: { status: 403, message: 'This API key lacks the scope for this operation' },
  NOT_FOUND: { status: 404, message: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body exceeds the size limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type must be application/json or application/msgpack' },
  VALIDATION_FAILED: { status: 422, message: 'The request does not follow the contract' },
  RATE_LIMITED: { status: 429, message: 'Too many requests for this API key' },
  TOO_MANY_MISMATCHES: { status: 429, message: 'Too many mismatching claims about this citizen from this API key; the attempt is recorded' },
  TOO_MANY_SEARCHES: { status: 429, message: 'Too many searches that found nobody from this API key (for this person, on this date of birth, or this hour); the attempt is recorded' },
  TOO_MANY_PENDING: { status: 429, message: 'This API key has as much work waiting or running as it may; retry after the indicated delay (other clients are served meanwhile)' },
  TOO_MANY_NOT_FOUND: { status: 429, message: 'Too many ID numbers that belong to nobody from this API key; the attempt is recorded' },
  INVALID_CHANGES: { status: 422, message: 'Changes of the batch cannot be applied; nothing of the batch was applied (see items)' },
  IDEMPOTENCY_CONFLICT: { status: 409, message: 'This idempotency key was used for a batch with other changes' },
  NOT_PRIMARY: { status: 409, message: 'This instance does not take changes (a replica, or a primary another has replaced): send them to the primary' },
  INTERNAL: { status: 500, message: 'Internal error' },
  OVERLOADED: { status: 503, message: 'The service is at capacity; retry after the indicated delay' },
  LIMITS_UNAVAILABLE: { status: 503, message: 'The limits every instance shares cannot be reached: answers of the guessing kind are withheld until they can; retry after the indicated delay' },
  REPLICATION_UNAVAILABLE: { status: 503, message: 'The change stream cannot confirm the batch now; send it again with the same Idempotency-Key' },
  NOT_READY: { status: 503, message: 'The service is not ready (index not open, or shutting down)' },
  STORAGE_FULL: { status: 507, message: 'The index storage is full: changes are refused until space is freed; verifications go on' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One refused change of a batch (INVALID_CHANGES), by its index in the batch. */
export interface ItemError {
  index: number;
  code: string;
  message: string;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; items?: ItemError[] };
}

/** An error that maps to one catalogue entry; `field` names the offending input field. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  /** Sent as Retry-After when set (429 from a client's limits); 503s use the configured delay. */
  retryAfterSeconds?: number;
  /** The refused items of a batch, each with its own code. */
  items?: ItemError[];
  constructor(code: ErrorCode, message?: string, field?: string) {
    super(message ?? ERRORS[code].message);
    this.code = code;
    this.field = field;
  }
  get status(): number {
    return ERRORS[this.code].status;
  }
  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.items !== undefined) error.items = this.items;
    return { error };
  }
}

/** 429 for a client over its rate or its daily quota, with when to try again. */
export function rateLimited(refusal: { reason: 'rate' | 'quota'; retryAfterSeconds: number }): ServiceError {
  const error = new ServiceError('RATE_LIMITED', refusal.reason === 'quota' ? 'The daily quota of this API key is used up; it resets at 00:00 UTC' : undefined);
  error.retryAfterSeconds = refusal.retryAfterSeconds;
  return error;
}

export function validationError(field: string, message: string): ServiceError {
  return new ServiceError('VALIDATION_FAILED', message, field);
}

/**
 * An unexpected error as it may be logged: its class, code and stack frames, but not its
 * message, which a library may have built from the request (a name, a number).
 */
export function loggableError(err: unknown): { errName: string; errCode?: string; frames: string[] } {
  if (!(err instanceof Error)) return { errName: typeof err, frames: [] };
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).map((l) => l.trim());
  const code = (err as { code?: unknown }).code;
  return { errName: err.name, ...(typeof code === 'string' ? { errCode: code } : {}), frames };
}
