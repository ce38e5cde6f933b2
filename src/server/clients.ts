import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Scope = 'verify' | 'demographic' | 'batch';
const MAX_KNOWN_HEADERS = 10_000;
const SCOPES: readonly Scope[] = ['verify', 'demographic', 'batch'];

export interface Client {
  id: string;
  scopes: ReadonlySet<Scope>;
  /** Sustained requests per second allowed; undefined for no limit. */
  ratePerSecond?: number;
  /** Requests allowed in a burst above the sustained rate. */
  burst?: number;
}

/** API keys are known only by their SHA-256: the clients file holds no raw key. */
export class ClientRegistry {
  private readonly byKeyHash = new Map<string, Client>();

  constructor(entries: { keySha256: string; client: Client }[]) {
    for (const { keySha256, client } of entries) this.byKeyHash.set(keySha256, client);
  }

  get size(): number {
    return this.byKeyHash.size;
  }

  // Known keys already hashed: SHA-256 costs more than the rest of authentication. Only
  // keys that authenticated are kept, so the cache cannot be filled with strangers' keys.
  private readonly known = new Map<string, Client>();

  /** The client for an Authorization header value, or undefined. */
  authenticate(authorization: string): Client | undefined {
    const cached = this.known.get(authorization);
    if (cached) return cached;
    if (!authorization.startsWith('Bearer ')) return undefined;
    const key = authorization.slice(7).trim();
    if (key.length === 0 || key.length > 512) return undefined;
    const client = this.byKeyHash.get(sha256Hex(key));
    if (client && this.known.size < MAX_KNOWN_HEADERS) this.known.set(authorization, client);
    return client;
  }

  static fromFile(path: string): ClientRegistry {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`clients file ${path}: ${(err as Error).message}`);
    }
    return new ClientRegistry(parseClients(parsed, path));
  }

  /** A single client with every scope and a fresh random key, printed once by `serve`. */
  static demo(): { registry: ClientRegistry; key: string } {
    const key = 'idv_demo_' + randomBytes(24).toString('base64url');
    const client: Client = { id: 'demo', scopes: new Set(SCOPES) };
    return { registry: new ClientRegistry([{ keySha256: sha256Hex(key), client }]), key };
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function parseClients(parsed: unknown, path: string): { keySha256: string; client: Client }[] {
  const fail = (msg: string): never => {
    throw new Error(`clients file ${path}: ${msg}`);
  };
  const list = (parsed as { clients?: unknown })?.clients;
  if (!Array.isArray(list)) fail('expected {"clients": [...]}');
  const seen = new Set<string>();
  return (list as Record<string, unknown>[]).map((c, i) => {
    const at = `clients[${i}]`;
    if (typeof c?.id !== 'string' || c.id === '') fail(`${at}.id must be a non-empty string`);
    if (typeof c.keySha256 !== 'string' || !/^[0-9a-f]{64}$/.test(c.keySha256)) fail(`${at}.keySha256 must be 64 lowercase hex characters`);
    if (seen.has(c.keySha256 as string)) fail(`${at}.keySha256 repeats another client's key`);
    seen.add(c.keySha256 as string);
    if (!Array.isArray(c.scopes) || c.scopes.some((s) => !SCOPES.includes(s))) fail(`${at}.scopes must list some of ${SCOPES.join(', ')}`);
    for (const k of ['ratePerSecond', 'burst'] as const) {
      if (c[k] !== undefined && (typeof c[k] !== 'number' || !((c[k] as number) > 0))) fail(`${at}.${k} must be a positive number`);
    }
    const unknown = Object.keys(c).find((k) => !['id', 'keySha256', 'scopes', 'ratePerSecond', 'burst'].includes(k));
    if (unknown) fail(`${at} has unknown field ${unknown}`);
    const client: Client = {
      id: c.id as string,
      scopes: new Set(c.scopes as Scope[]),
      ratePerSecond: c.ratePerSecond as number | undefined,
      burst: c.burst as number | undefined,
    };
    return { keySha256: c.keySha256 as string, client };
  });
}
