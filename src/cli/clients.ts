import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { newKey, readClientsFile, SCOPES, VERIFICATION_SCOPES, sha256Hex, validateEntries, writeClientsFile, type ClientEntry, type Scope } from '../server/clients.js';
import { flags, positiveInt, UsageError } from './args.js';

const CLIENT_FLAGS = {
  file: { type: 'string' },
  id: { type: 'string' },
  scopes: { type: 'string' },
  rate: { type: 'string' },
  burst: { type: 'string' },
  'daily-quota': { type: 'string' },
  purposes: { type: 'string' },
  'consent-optional': { type: 'boolean' },
} as const;

/** Prints a key that exists nowhere else: the clients file keeps only its SHA-256. */
function showKey(id: string, key: string): void {
  process.stdout.write(JSON.stringify({ id, key, note: 'shown once: the clients file keeps only its SHA-256' }, null, 2) + '\n');
}

function scopesOf(text: string | undefined): Scope[] {
  const scopes = (text ?? VERIFICATION_SCOPES.join(',')).split(',').map((s) => s.trim());
  const bad = scopes.find((s) => !SCOPES.includes(s as Scope));
  if (bad !== undefined) throw new UsageError(`--scopes takes some of ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

/**
 * `idv clients add|list|revoke|rotate --file F`: edits the clients file in place (written
 * whole, owner-only). A running server picks the change up within a second.
 */
export async function clients(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const f = flags(rest, CLIENT_FLAGS);
  if (!f.file) throw new UsageError('--file FILE (the clients file) is required');
  const path = resolve(f.file);
  const entries: ClientEntry[] = existsSync(path) ? readClientsFile(path) : [];
  const find = () => {
    if (!f.id) throw new UsageError('--id NAME is required');
    const at = entries.findIndex((e) => e.id === f.id);
    if (at < 0) throw new Error(`no client ${JSON.stringify(f.id)} in ${path}`);
    return at;
  };
  switch (sub) {
    case 'add': {
      if (!f.id) throw new UsageError('--id NAME is required');
      if (entries.some((e) => e.id === f.id)) throw new Error(`a client ${JSON.stringify(f.id)} is already in ${path} (rotate its key instead)`);
      const key = newKey();
      const entry: ClientEntry = { id: f.id, keySha256: sha256Hex(key), scopes: scopesOf(f.scopes) };
      if (f.rate !== undefined) entry.ratePerSecond = positiveInt('rate', f.rate);
      if (f.burst !== undefined) entry.burst = positiveInt('burst', f.burst);
      if (f['daily-quota'] !== undefined) entry.dailyQuota = positiveInt('daily-quota', f['daily-quota']);
      if (f.purposes !== undefined) entry.purposes = f.purposes.split(',').map((p) => p.trim());
      if (f['consent-optional']) entry.consentRequired = false;
      // Checked as the server will read it, before anything is written.
      validateEntries({ clients: [...entries, entry] }, path);
      writeClientsFile(path, [...entries, entry]);
      return showKey(f.id, key);
    }
    case 'list':
      for (const { keySha256, ...e } of entries) process.stdout.write(JSON.stringify({ ...e, keyFingerprint: keySha256.slice(0, 8) }) + '\n');
      return;
    case 'revoke': {
      const at = find();
      writeClientsFile(path, entries.filter((_, i) => i !== at));
      process.stdout.write(JSON.stringify({ revoked: f.id }) + '\n');
      return;
    }
    case 'rotate': {
      const at = find();
      const key = newKey();
      entries[at] = { ...entries[at], keySha256: sha256Hex(key) };
      writeClientsFile(path, entries);
      return showKey(f.id!, key);
    }
    default:
      throw new UsageError('clients takes add, list, revoke or rotate');
  }
}
