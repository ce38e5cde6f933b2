import { hash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, renameSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import type { ServeConfig } from '../config.js';
import type { Limits } from './rateLimit.js';
import type { ErrorObject } from 'ajv';
import { contractAjv, rule } from '../contract/ajv.js';
import { PURPOSE } from '../contract/schemas.js';

/** admin: the register's changes (POST /v1/records) and their log (GET /v1/changes); never given by default. */
export type Scope = 'verify' | 'demographic' | 'batch' | 'admin';
export const SCOPES: readonly Scope[] = ['verify', 'demographic', 'batch', 'admin'];
/** What a client is given when no scopes are named. */
export const VERIFICATION_SCOPES: readonly Scope[] = ['verify', 'demographic', 'batch'];

export interface Client {
  id: string;
  scopes: ReadonlySet<Scope>;
  limits: Limits;
  /** Every verification must state a purpose and a consent reference (the default). */
  consentRequired: boolean;
  /** The purposes this client may state; any short code when absent. */
  purposes?: ReadonlySet<string>;
  /** Whether answers show numeric scores (an evaluation client); match and level otherwise. */
  scores: boolean;
}

/** One entry of the clients file: no raw key, only its SHA-256. Absent limits take the server's defaults. */
export interface ClientEntry {
  id: string;
  keySha256: string;
  scopes: Scope[];
  ratePerSecond?: number;
  burst?: number;
  dailyQuota?: number;
  /** Default true: verifications without purpose and consentRef are refused. */
  consentRequired?: boolean;
  purposes?: string[];
  /** Default false: answers carry match and level, not the numeric scores. */
  scores?: boolean;
  mismatchesPerCitizen?: number;
  emptySearchesPerName?: number;
  emptySearchesPerDate?: number;
  emptySearchesPerHour?: number;
  notFoundPerHour?: number;
  pendingItems?: number;
}

const LIMITS = ['ratePerSecond', 'burst', 'dailyQuota', 'mismatchesPerCitizen', 'emptySearchesPerName', 'emptySearchesPerDate', 'emptySearchesPerHour', 'notFoundPerHour', 'pendingItems'] as const;

/** A client's limits where its entry names none. */
export function defaultLimits(config: Readonly<ServeConfig>): Limits {
  return {
    ratePerSecond: config.defaultRatePerSecond,
    burst: config.defaultBurst,
    dailyQuota: config.defaultDailyQuota,
    mismatchesPerCitizen: config.defaultMismatchesPerCitizen,
    emptySearchesPerName: config.defaultEmptySearchesPerName,
    emptySearchesPerDate: config.defaultEmptySearchesPerDate,
    emptySearchesPerHour: config.defaultEmptySearchesPerHour,
    notFoundPerHour: config.defaultNotFoundPerHour,
    pendingItems: config.defaultPendingItems,
  };
}

// One-shot hashing (Node 20.12+): every request's key is hashed, and a Hash object costs twice the digest.
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** A new random API key. */
export const newKey = (prefix = 'idv_') => prefix + randomBytes(24).toString('base64url');

/**
 * API keys are known only by their SHA-256. Every presented key is hashed, then looked
 * up by its hash, so the time taken does not depend on how much of a real key it shares.
 */
export class ClientRegistry {
  private byKeyHash = new Map<string, Client>();

  constructor(
    entries: ClientEntry[],
    private readonly defaults: Limits,
  ) {
    this.replace(entries);
  }

  get size(): number {
    return this.byKeyHash.size;
  }

  /** Swaps in a new set of clients at once (a reload of the clients file). */
  replace(entries: ClientEntry[]): void {
    const next = new Map<string, Client>();
    for (const e of entries) {
      const limits = { ...this.defaults } as Limits;
      for (const k of LIMITS) if (e[k] !== undefined) limits[k] = e[k]!;
      // A client given a rate but no burst may burst one second's worth.
      if (e.burst === undefined && e.ratePerSecond !== undefined) limits.burst = e.ratePerSecond;
      const client: Client = { id: e.id, scopes: new Set(e.scopes), limits, consentRequired: e.consentRequired ?? true, scores: e.scores ?? false };
      if (e.purposes) client.purposes = new Set(e.purposes);
      next.set(e.keySha256, client);
    }
    this.byKeyHash = next;
  }

  /** Every client of the file (several keys of one client during a rotation count once). */
  clients(): Client[] {
    return [...new Map([...this.byKeyHash.values()].map((c) => [c.id, c])).values()];
  }

  /** The client for an Authorization header value, or undefined. */
  authenticate(authorization: string): Client | undefined {
    if (!authorization.startsWith('Bearer ')) return undefined;
    const key = authorization.slice(7).trim();
    if (key.length === 0 || key.length > 512) return undefined;
    return this.byKeyHash.get(sha256Hex(key));
  }

  /** A single client with every scope and a fresh random key, printed once by `serve --demo`. */
  static demo(defaults: Limits): { registry: ClientRegistry; key: string } {
    const { entries, key } = demoClient();
    return { registry: new ClientRegistry(entries, defaults), key };
  }
}

/** A throwaway client for trying the API, with a fresh key: purpose and consent optional, so the printed curl works. */
export function demoClient(): { entries: ClientEntry[]; key: string } {
  const key = newKey('idv_demo_');
  return { entries: [{ id: 'demo', keySha256: sha256Hex(key), scopes: [...SCOPES], consentRequired: false }], key };
}

/** Reads and checks a clients file; every problem names the entry and field. */
export function readClientsFile(path: string): ClientEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`clients file ${path}: ${(err as Error).message}`);
  }
  return validateEntries(parsed, path);
}

const positive = { type: 'number', exclusiveMinimum: 0 };

/** The clients file as a JSON schema: `{"clients": [entry, ...]}`, each entry's fields as ClientEntry says. */
export const CLIENTS_FILE_SCHEMA = {
  type: 'object',
  required: ['clients'],
  properties: {
    clients: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'keySha256', 'scopes'],
        properties: {
          id: { type: 'string', minLength: 1 },
          keySha256: { type: 'string', pattern: '^[0-9a-f]{64}$', 'x-rule': 'must be 64 lowercase hex characters' },
          scopes: { type: 'array', items: { enum: SCOPES } },
          consentRequired: { type: 'boolean' },
          purposes: { type: 'array', minItems: 1, items: { type: 'string', pattern: PURPOSE.source, 'x-rule': 'must be a short code of lower-case letters, digits, ".", "_" or "-"' } },
          scores: { type: 'boolean' },
          ...Object.fromEntries(LIMITS.map((k) => [k, positive])),
        },
      },
    },
  },
} as const;

const validateFile = contractAjv({ allErrors: false }).compile(CLIENTS_FILE_SCHEMA);

/** Checks the parsed content of a clients file; a problem names the entry and field. */
export function validateEntries(parsed: unknown, path: string): ClientEntry[] {
  const fail = (msg: string): never => {
    throw new Error(`clients file ${path}: ${msg}`);
  };
  if (!validateFile(parsed)) fail(fileProblem(validateFile.errors![0]));
  const entries = (parsed as { clients: ClientEntry[] }).clients;
  // What a schema cannot say: an id and a key belong to one entry each.
  for (const field of ['id', 'keySha256'] as const) {
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      if (seen.has(entry[field])) fail(`clients[${i}].${field} repeats another client's ${field === 'id' ? 'id' : 'key'}`);
      seen.add(entry[field]);
    });
  }
  return entries;
}

/** `/clients/2/scopes/0` as `clients[2].scopes[0]`. */
const entryPath = (instancePath: string) => instancePath.slice(1).replace(/\/(\d+)/g, '[$1]').replaceAll('/', '.');

function fileProblem(e: ErrorObject): string {
  const at = entryPath(e.instancePath);
  if (at === '' || at === 'clients') return 'expected {"clients": [...]}';
  if (e.keyword === 'additionalProperties') return `${at} has unknown field ${String(e.params.additionalProperty)}`;
  if (e.keyword === 'required') return `${at}.${String(e.params.missingProperty)} is required`;
  return `${at} ${rule(e)}`;
}

/**
 * Writes a clients file whole (a temporary file renamed over it), owner-only: a server
 * reloading it never reads half of one. A symlink is written through (its target
 * replaced), so a file kept elsewhere, by configuration management say, stays where it is.
 */
export function writeClientsFile(path: string, entries: ClientEntry[]): void {
  const target = existsSync(path) ? realpathSync(path) : path;
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ clients: entries }, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, target);
}

/**
 * Keeps the clients in step with their file (`replace` takes each version): checked every 250 ms and on SIGHUP, so an added,
 * revoked or rotated key takes effect within a second. A file that fails its checks is
 * logged and the clients already loaded stay in force.
 */
export function followClientsFile(path: string, replace: (entries: ClientEntry[]) => void, log: (event: Record<string, unknown>) => void): () => void {
  const reload = (why: string) => {
    try {
      const entries = readClientsFile(path);
      replace(entries);
      log({ level: 'info', msg: 'clients file reloaded', why, clients: entries.length });
    } catch (err) {
      log({ level: 'error', msg: 'clients file not reloaded: the clients already loaded stay in force', why, err: (err as Error).message });
    }
  };
  const onChange = (now: { mtimeMs: number; ino: number; size: number }, before: { mtimeMs: number; ino: number; size: number }) => {
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload('changed');
  };
  const onHangup = () => reload('SIGHUP');
  watchFile(path, { interval: 250, persistent: false }, onChange);
  process.on('SIGHUP', onHangup);
  return () => {
    unwatchFile(path, onChange);
    process.off('SIGHUP', onHangup);
  };
}
