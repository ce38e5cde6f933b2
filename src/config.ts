import type { ErrorObject } from 'ajv';
import { contractAjv, rule } from './contract/ajv.js';

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
  buildCheckMs: number; // how often a newly published build is looked for; 0: on SIGHUP only
  auditDir?: string; // the audit trail; default DIR/audit beside the index's builds
  auditFlushMs: number; // records are written and synced this often: durable within it
  auditMaxFileBytes: number; // a trail file is closed at this size (and at the end of each UTC day)
  // Measurement only: no audit trail, rate limits, quotas or probing limits. Serves only an
  // index built unsealed (`build --unsealed`), and such an index is served only so: the two
  // cannot be turned off one at a time, nor by mistake on a real index.
  unprotected: boolean;
  logLevel: LogLevel; // debug: a line per request; info: start, stop, builds, and every 5xx with its stack
  logClientErrors: boolean; // a line per 4xx answer, at info (its code, route and client id)
  // The change stream (NATS JetStream): without `nats`, an instance stands alone.
  nats?: string; // the NATS servers, comma-separated URLs
  natsStream: string; // the stream's name; its subjects are NAME.<build>
  natsStreamReplicas: number; // copies JetStream keeps of the stream and of the limits bucket (a cluster of that many servers at least)
  natsLimitsBucket: string; // the JetStream key-value bucket of the limits every instance shares
  replica: boolean; // follow the stream (serve verifications from it) instead of taking changes
  promote: boolean; // start as the primary in place of the one the stream last had (after catching up with it)
  ack: 'local' | 'replicated'; // a batch is acknowledged once on this disk, or once in the stream too
  replicationTimeoutMs: number; // under ack replicated: how long a batch waits for the stream before 503
  maxLagSeconds: number; // a replica further behind than this says it is not ready
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
  buildCheckMs: 2000,
  auditFlushMs: 200,
  auditMaxFileBytes: 256 * 1024 * 1024, // 256 MiB
  unprotected: false,
  logLevel: 'info',
  logClientErrors: false,
  natsStream: 'IDV_CHANGES',
  natsStreamReplicas: 1,
  natsLimitsBucket: 'IDV_LIMITS',
  replica: false,
  promote: false,
  ack: 'local',
  replicationTimeoutMs: 5000,
  maxLagSeconds: 5,
};

export class ConfigError extends Error {
  constructor(option: string, problem: string) {
    super(`invalid option ${option}: ${problem}`);
  }
}

/** A setting's JSON schema: what the server's settings schema holds for it. */
type SettingSchema = { type: 'string'; minLength?: number; enum?: readonly string[]; pattern?: string; 'x-rule'?: string } | { type: 'integer'; minimum: number; maximum: number } | { type: 'boolean' };

const str: SettingSchema = { type: 'string', minLength: 1 };
const int = (minimum: number, maximum: number): SettingSchema => ({ type: 'integer', minimum, maximum });
const bool: SettingSchema = { type: 'boolean' };
const oneOf = (...allowed: readonly string[]): SettingSchema => ({ type: 'string', enum: allowed });
/** A JetStream stream's or bucket's name. */
const NAME: SettingSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', 'x-rule': 'must be 1 to 64 letters, digits, "_" or "-"' };

/**
 * How an operator sets each setting: a flag of `idv serve` (and `idv demo`), an
 * environment variable, or a key of the file `--config FILE` (the setting's own name).
 * A flag wins over the variable, the variable over the file, the file over the default.
 * `idv serve --help` and the configuration table of docs/operations.md are made from this table.
 */
export interface Setting {
  /** The flag, with its value's name unless it is a switch. */
  flag: string;
  env: string;
  help: string;
  schema: SettingSchema;
}

const setting = (flag: string, env: string, schema: SettingSchema, help: string): Setting => ({ flag, env, schema, help });

export const SETTINGS: { readonly [K in keyof ServeConfig]-?: Setting } = {
  indexDir: setting('--index <dir>', 'IDV_INDEX', str, 'the index directory'),
  secretFile: setting('--secret-file <file>', 'IDV_SECRET_FILE', str, 'the index secret; unless given, DIR.secret.hex beside the index directory, never in it'),
  clientsFile: setting('--clients <file>', 'IDV_CLIENTS_FILE', str, 'the clients file: API keys, scopes and limits'),
  demo: setting('--demo', 'IDV_DEMO', bool, 'without a clients file: a throwaway client with every scope, its key printed once'),
  host: setting('--host <host>', 'IDV_HOST', str, 'address to listen on'),
  port: setting('--port <port>', 'IDV_PORT', int(0, 65535), 'port to listen on, held exclusively; 0 for a free one'),
  threads: setting('--threads <n>', 'IDV_THREADS', int(1, 64), 'server threads, each serving its share of the connections start to finish'),
  defaultRatePerSecond: setting('--default-rate <n>', 'IDV_DEFAULT_RATE', int(1, 10_000_000), "a client's requests a second (a batch item counts one), unless its entry says"),
  defaultBurst: setting('--default-burst <n>', 'IDV_DEFAULT_BURST', int(1, 10_000_000), "a client's requests at once above its rate, unless its entry says"),
  defaultDailyQuota: setting('--default-daily-quota <n>', 'IDV_DEFAULT_DAILY_QUOTA', int(1, 1_000_000_000_000), "a client's requests a UTC day, unless its entry says"),
  defaultPendingItems: setting('--pending-items <n>', 'IDV_PENDING_ITEMS', int(1, 10_000_000), "a client's items waiting or running at once, unless its entry says; beyond, 429 TOO_MANY_PENDING"),
  minNameThreshold: setting('--min-name-threshold <n>', 'IDV_MIN_NAME_THRESHOLD', int(0, 100), 'the lowest options.nameThreshold a client may ask for'),
  defaultMismatchesPerCitizen: setting('--mismatches-per-citizen <n>', 'IDV_MISMATCHES_PER_CITIZEN', int(1, 1_000_000_000), 'mismatches about one citizen a client gets in 24 h, unless its entry says; then TOO_MANY_MISMATCHES'),
  defaultEmptySearchesPerName: setting('--empty-searches-per-name <n>', 'IDV_EMPTY_SEARCHES_PER_NAME', int(1, 1_000_000_000), 'searches finding nobody that reached one person, in 24 h; then TOO_MANY_SEARCHES'),
  defaultEmptySearchesPerDate: setting('--empty-searches-per-date <n>', 'IDV_EMPTY_SEARCHES_PER_DATE', int(1, 1_000_000_000), 'searches finding nobody on one date of birth, in 24 h; then TOO_MANY_SEARCHES'),
  defaultEmptySearchesPerHour: setting('--empty-searches-per-hour <n>', 'IDV_EMPTY_SEARCHES_PER_HOUR', int(1, 1_000_000_000), 'searches finding nobody, in 1 h; then TOO_MANY_SEARCHES'),
  defaultNotFoundPerHour: setting('--not-found-per-hour <n>', 'IDV_NOT_FOUND_PER_HOUR', int(1, 1_000_000_000), 'ID numbers that belong to nobody, in 1 h; then TOO_MANY_NOT_FOUND'),
  maxInFlightItems: setting('--max-inflight <n>', 'IDV_MAX_INFLIGHT', int(0, 10_000_000), 'items in flight beyond which requests are refused 503 OVERLOADED'),
  shedQueueDelayMs: setting('--shed-delay <ms>', 'IDV_SHED_DELAY', int(1, 60_000), "refuse a client's new work 503 OVERLOADED while even its shortest wait of the last 100 ms was longer"),
  sliceItems: setting('--slice-items <n>', 'IDV_SLICE_ITEMS', int(1, 100_000), "items of one client run before the next client's turn"),
  turnMs: setting('--turn-ms <ms>', 'IDV_TURN_MS', int(1, 1000), 'work done in one go before a server thread reads its sockets again'),
  bodyLimitBytes: setting('--body-limit <bytes>', 'IDV_BODY_LIMIT', int(256, 64 * 1024 * 1024), 'the body of /v1/verify and /v1/verify/demographic at most; beyond, 413 BODY_TOO_LARGE'),
  batchBodyLimitBytes: setting('--batch-body-limit <bytes>', 'IDV_BATCH_BODY_LIMIT', int(256, 256 * 1024 * 1024), 'the body of /v1/verify/batch and /v1/records at most'),
  batchMaxItems: setting('--batch-max-items <n>', 'IDV_BATCH_MAX_ITEMS', int(1, 100_000), 'items of a batch at most'),
  maxChangesPerBatch: setting('--max-changes-per-batch <n>', 'IDV_MAX_CHANGES_PER_BATCH', int(1, 100_000), 'changes of a POST /v1/records batch at most'),
  lingerMs: setting('--linger-ms <ms>', 'IDV_LINGER_MS', int(0, 60_000), 'a body over its limit is still read and dropped this long before its 413, so clients that write first read it'),
  lingerBytes: setting('--linger-bytes <n>', 'IDV_LINGER_BYTES', int(0, 1024 * 1024 * 1024), 'and at most this many bytes of it'),
  retryAfterSeconds: setting('--retry-after <s>', 'IDV_RETRY_AFTER', int(1, 3600), 'Retry-After of a 503'),
  shutdownGraceMs: setting('--shutdown-grace <ms>', 'IDV_SHUTDOWN_GRACE', int(0, 600_000), 'how long SIGTERM waits for requests in flight'),
  buildCheckMs: setting('--build-check <ms>', 'IDV_BUILD_CHECK', int(0, 3_600_000), 'how often a newly published build is looked for (0: only on SIGHUP)'),
  auditDir: setting('--audit-dir <dir>', 'IDV_AUDIT_DIR', str, 'the audit trail; unless given, DIR/audit'),
  auditFlushMs: setting('--audit-flush <ms>', 'IDV_AUDIT_FLUSH', int(10, 1000), 'audit records are written and synced this often: durable within it'),
  auditMaxFileBytes: setting('--audit-max-file <bytes>', 'IDV_AUDIT_MAX_FILE', int(4096, 64 * 1024 ** 3), 'an audit file is closed at this size (and at the end of each UTC day)'),
  unprotected: setting('--unprotected', 'IDV_UNPROTECTED', bool, 'for measurement only: no audit trail, rate limits, quotas or probing limits (an --unsealed index only)'),
  logLevel: setting('--log-level <level>', 'IDV_LOG_LEVEL', oneOf(...LOG_LEVELS), 'info: start, stop, builds and every 5xx; debug adds a line per answer'),
  logClientErrors: setting('--log-client-errors', 'IDV_LOG_CLIENT_ERRORS', bool, 'a line per 4xx answer, at info'),
  nats: setting('--nats <urls>', 'IDV_NATS', str, 'NATS servers (comma-separated) carrying the change stream; without it the instance stands alone'),
  natsStream: setting('--nats-stream <name>', 'IDV_NATS_STREAM', NAME, 'the JetStream stream of changes; its subjects are NAME.<build>'),
  natsStreamReplicas: setting('--nats-stream-replicas <n>', 'IDV_NATS_STREAM_REPLICAS', int(1, 5), 'copies of the stream and of the limits bucket JetStream keeps, on as many servers of its cluster'),
  natsLimitsBucket: setting('--nats-limits <bucket>', 'IDV_NATS_LIMITS', NAME, 'the JetStream key-value bucket holding the limits every instance shares: rates, quotas and the probing counts'),
  replica: setting('--replica', 'IDV_REPLICA', bool, 'follow the change stream from a snapshot (idv snapshot) instead of taking changes; POST /v1/records is refused NOT_PRIMARY'),
  promote: setting('--promote', 'IDV_PROMOTE', bool, 'take over as the primary: catch up with the stream, then fence the primary it last had'),
  ack: setting('--ack <level>', 'IDV_ACK', oneOf('local', 'replicated'), 'a batch of changes is acknowledged once on this disk (local), or once in the stream too (replicated)'),
  replicationTimeoutMs: setting('--replication-timeout <ms>', 'IDV_REPLICATION_TIMEOUT', int(100, 600_000), 'under --ack replicated, how long a batch waits for the stream before 503 REPLICATION_UNAVAILABLE'),
  maxLagSeconds: setting('--max-lag <s>', 'IDV_MAX_LAG', int(1, 86_400), 'a replica further behind the stream than this says it is not ready'),
};

/**
 * The settings as one JSON schema, with their defaults: unknown settings are refused, and
 * numbers and switches given as text (flags, the environment) are read as such.
 */
export const SERVE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['indexDir', 'secretFile'],
  properties: Object.fromEntries(Object.entries(SETTINGS).map(([key, s]) => [key, { ...s.schema, default: (DEFAULTS as Record<string, unknown>)[key] }])),
} as const;

const validateSettings = contractAjv({ allErrors: false, coerceTypes: true, useDefaults: true }).compile(SERVE_SCHEMA);

/** Switches as an environment variable usually gives them: 1 and 0 besides true and false. */
const SWITCH_WORDS: Record<string, boolean> = { '1': true, '0': false };

export function serveConfig(input: Record<string, unknown>): Readonly<ServeConfig> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const boolean = Object.hasOwn(SETTINGS, key) && SETTINGS[key as keyof ServeConfig].schema.type === 'boolean';
    out[key] = boolean && typeof value === 'string' && value in SWITCH_WORDS ? SWITCH_WORDS[value] : value;
  }
  if (!validateSettings(out)) throw settingError(validateSettings.errors![0]);
  if (out.clientsFile === undefined && !out.demo) {
    throw new ConfigError('clientsFile', 'required (give --clients FILE; --demo starts a throwaway demo client instead)');
  }
  if (out.nats === undefined) {
    for (const needs of ['replica', 'promote'] as const) if (out[needs]) throw new ConfigError(needs, 'needs the change stream (--nats URLS)');
    if (out.ack === 'replicated') throw new ConfigError('ack', 'replicated needs the change stream (--nats URLS)');
  }
  if (out.replica && out.promote) throw new ConfigError('promote', 'a replica is promoted by starting it without --replica');
  return Object.freeze(out as unknown as ServeConfig);
}

function settingError(e: ErrorObject): ConfigError {
  if (e.keyword === 'additionalProperties') return new ConfigError(String(e.params.additionalProperty), 'unknown option');
  if (e.keyword === 'required') return new ConfigError(String(e.params.missingProperty), 'required');
  return new ConfigError(e.instancePath.slice(1), rule(e));
}
