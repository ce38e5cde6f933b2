import { MIN_NAME_THRESHOLD } from './domain/names.js';
import { LOG_LEVELS, type LogLevel } from './log.js';

/**
 * Every setting of the server, validated once at start: unknown keys are refused,
 * each error names its option, and the result is frozen.
 */
export interface ServeConfig {
  host: string;
  port: number; // 0 picks a free port
  indexDir: string;
  secretFile: string;
  clientsFile?: string;
  demo: boolean; // without a clients file: a throwaway client with every scope, its key printed once
  defaultRatePerSecond: number; // a client's requests (batch items count one each) per second, unless its entry says
  defaultBurst: number; // requests allowed at once above the rate, unless its entry says
  defaultDailyQuota: number; // requests (batch items count one each) per UTC day, unless its entry says
  minNameThreshold: number; // the lowest options.nameThreshold a client may ask for
  // Unless a client's entry says otherwise: answers of the kind guessing produces, then refusals.
  defaultMismatchesPerCitizen: number; // mismatching answers about one citizen per 24 h; then TOO_MANY_MISMATCHES
  defaultEmptySearchesPerName: number; // searches finding nobody that reached one person (any form of the name) per 24 h; then TOO_MANY_SEARCHES
  defaultEmptySearchesPerDate: number; // searches finding nobody on one date of birth per 24 h; then TOO_MANY_SEARCHES
  defaultEmptySearchesPerHour: number; // searches finding nobody per hour; then TOO_MANY_SEARCHES
  defaultNotFoundPerHour: number; // not_found answers per hour; then TOO_MANY_NOT_FOUND
  defaultPendingItems: number; // items a client may have waiting or running at once (shared out among the threads); then TOO_MANY_PENDING
  threads: number; // server threads: one uWS App each on the shared port, each request done start to finish on its thread
  maxInFlightItems: number; // at or beyond this, requests are refused with 503 OVERLOADED
  shedQueueDelayMs: number; // refuse a client's new work while even its shortest wait (beyond its own running time) is longer than this
  sliceItems: number; // items of one client run before the next client's turn (server threads)
  turnMs: number; // work done in one go before a server thread reads its sockets again
  bodyLimitBytes: number; // /v1/verify and /v1/verify/demographic
  batchBodyLimitBytes: number; // /v1/verify/batch
  batchMaxItems: number;
  maxChangesPerBatch: number; // POST /v1/records (its body limit is batchBodyLimitBytes)
  // A body over its limit is still read and dropped, for at most this long and this many
  // bytes, before the 413 and the close: clients that write before they read then get it.
  lingerMs: number;
  lingerBytes: number;
  retryAfterSeconds: number; // Retry-After on 503
  shutdownGraceMs: number; // drain time for in-flight requests on SIGTERM
  auditDir?: string; // the audit trail; default DIR/audit beside the index's builds
  auditFlushMs: number; // records are written and synced this often: durable within it
  auditMaxFileBytes: number; // a trail file is closed at this size (and at the end of each UTC day)
  // Measurement only: no audit trail, rate limits, quotas or probing limits. Serves only an
  // index built unsealed (`build --unsealed`), and such an index is served only so: the two
  // cannot be turned off one at a time, nor by mistake on a real index.
  unprotected: boolean;
  logLevel: LogLevel; // debug: a line per request; info: start, stop, builds, and every 5xx with its stack
  logClientErrors: boolean; // a line per 4xx answer, at info (its code, route and client id)
}

export const DEFAULTS: Omit<ServeConfig, 'indexDir' | 'secretFile'> = {
  host: '127.0.0.1',
  port: 8080,
  demo: false,
  defaultRatePerSecond: 200,
  defaultBurst: 1000, // one full batch
  defaultDailyQuota: 1_000_000,
  minNameThreshold: MIN_NAME_THRESHOLD,
  defaultMismatchesPerCitizen: 5,
  defaultEmptySearchesPerName: 20,
  defaultEmptySearchesPerDate: 20,
  defaultEmptySearchesPerHour: 100,
  defaultNotFoundPerHour: 100,
  defaultPendingItems: 4000, // four full batches
  threads: 2,
  maxInFlightItems: 16_384,
  shedQueueDelayMs: 20, // 20 ms: the p99 target of accepted requests under overload
  sliceItems: 16, // ~1.6 ms of searches, ~0.4 ms of ID checks
  turnMs: 5,
  bodyLimitBytes: 16 * 1024, // 16 KiB
  batchBodyLimitBytes: 2 * 1024 * 1024, // 2 MiB: 1,000 items of up to ~2 KiB
  batchMaxItems: 1000,
  maxChangesPerBatch: 1000,
  lingerMs: 5000, // as the nginx template's lingering_time
  lingerBytes: 64 * 1024 * 1024, // 64 MiB
  retryAfterSeconds: 1,
  shutdownGraceMs: 10_000, // 10 s
  auditFlushMs: 200,
  auditMaxFileBytes: 256 * 1024 * 1024, // 256 MiB
  unprotected: false,
  logLevel: 'info',
  logClientErrors: false,
};

export class ConfigError extends Error {
  constructor(option: string, problem: string) {
    super(`invalid option ${option}: ${problem}`);
  }
}

type Rule = (name: string, value: unknown) => unknown;

const str: Rule = (name, v) => {
  if (typeof v !== 'string' || v === '') throw new ConfigError(name, 'expected a non-empty string');
  return v;
};
const int = (min: number, max: number): Rule => (name, v) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}`);
  }
  return n;
};
const bool: Rule = (name, v) => {
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw new ConfigError(name, 'expected true or false');
};
const oneOf = (...allowed: string[]): Rule => (name, v) => {
  if (typeof v !== 'string' || !allowed.includes(v)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}`);
  return v;
};

const RULES: Record<keyof ServeConfig, Rule> = {
  host: str,
  port: int(0, 65535),
  indexDir: str,
  secretFile: str,
  clientsFile: str,
  demo: bool,
  defaultRatePerSecond: int(1, 10_000_000),
  defaultBurst: int(1, 10_000_000),
  defaultDailyQuota: int(1, 1_000_000_000_000),
  minNameThreshold: int(0, 100),
  defaultMismatchesPerCitizen: int(1, 1_000_000_000),
  defaultEmptySearchesPerName: int(1, 1_000_000_000),
  defaultEmptySearchesPerDate: int(1, 1_000_000_000),
  defaultEmptySearchesPerHour: int(1, 1_000_000_000),
  defaultNotFoundPerHour: int(1, 1_000_000_000),
  defaultPendingItems: int(1, 10_000_000),
  threads: int(1, 64),
  maxInFlightItems: int(0, 10_000_000),
  shedQueueDelayMs: int(1, 60_000),
  sliceItems: int(1, 100_000),
  turnMs: int(1, 1000),
  bodyLimitBytes: int(256, 64 * 1024 * 1024),
  batchBodyLimitBytes: int(256, 256 * 1024 * 1024),
  lingerMs: int(0, 60_000),
  lingerBytes: int(0, 1024 * 1024 * 1024),
  batchMaxItems: int(1, 100_000),
  maxChangesPerBatch: int(1, 100_000),
  retryAfterSeconds: int(1, 3600),
  shutdownGraceMs: int(0, 600_000),
  auditDir: str,
  auditFlushMs: int(10, 1000),
  auditMaxFileBytes: int(4096, 64 * 1024 ** 3),
  unprotected: bool,
  logLevel: oneOf(...LOG_LEVELS),
  logClientErrors: bool,
};

export function serveConfig(input: Record<string, unknown>): Readonly<ServeConfig> {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const rule = RULES[key as keyof ServeConfig];
    if (!rule) throw new ConfigError(key, 'unknown option');
    out[key] = rule(key, value);
  }
  for (const required of ['indexDir', 'secretFile'] as const) {
    if (out[required] === undefined) throw new ConfigError(required, 'required');
  }
  if (out.clientsFile === undefined && !out.demo) {
    throw new ConfigError('clientsFile', 'required (give --clients FILE; --demo starts a throwaway demo client instead)');
  }
  return Object.freeze(out as unknown as ServeConfig);
}
