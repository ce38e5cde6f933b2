import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { newKey, readClientsFile, SCOPES, VERIFICATION_SCOPES, sha256Hex, validateEntries, writeClientsFile, type ClientEntry, type Scope } from '../clients/clients.js';
import { positiveInt, UsageError } from './args.js';

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

/** A client's entry as `clients add` takes it. */
export interface NewClient {
  file: string;
  id: string;
  scopes?: string;
  rate?: string;
  burst?: string;
  dailyQuota?: string;
  purposes?: string;
  consentOptional?: boolean;
}

/** The clients file's entries (none when it does not exist yet). */
function entriesOf(file: string): { path: string; entries: ClientEntry[] } {
  const path = resolve(file);
  return { path, entries: existsSync(path) ? readClientsFile(path) : [] };
}

function indexOf(entries: ClientEntry[], id: string, path: string): number {
  const at = entries.findIndex((e) => e.id === id);
  if (at < 0) throw new Error(`no client ${JSON.stringify(id)} in ${path}`);
  return at;
}

/*
 * `idv clients add|list|revoke|rotate --file F`: edits the clients file in place (written
 * whole, owner-only). A running server picks the change up within a second.
 */

export async function clientsAdd(f: NewClient): Promise<void> {
  const { path, entries } = entriesOf(f.file);
  if (entries.some((e) => e.id === f.id)) throw new Error(`a client ${JSON.stringify(f.id)} is already in ${path} (rotate its key instead)`);
  const key = newKey();
  const entry: ClientEntry = { id: f.id, keySha256: sha256Hex(key), scopes: scopesOf(f.scopes) };
  if (f.rate !== undefined) entry.ratePerSecond = positiveInt('rate', f.rate);
  if (f.burst !== undefined) entry.burst = positiveInt('burst', f.burst);
  if (f.dailyQuota !== undefined) entry.dailyQuota = positiveInt('daily-quota', f.dailyQuota);
  if (f.purposes !== undefined) entry.purposes = f.purposes.split(',').map((p) => p.trim());
  if (f.consentOptional) entry.consentRequired = false;
  // Checked as the server will read it, before anything is written.
  validateEntries({ clients: [...entries, entry] }, path);
  writeClientsFile(path, [...entries, entry]);
  showKey(f.id, key);
}

export async function clientsList(f: { file: string }): Promise<void> {
  for (const { keySha256, ...e } of entriesOf(f.file).entries) process.stdout.write(JSON.stringify({ ...e, keyFingerprint: keySha256.slice(0, 8) }) + '\n');
}

export async function clientsRevoke(f: { file: string; id: string }): Promise<void> {
  const { path, entries } = entriesOf(f.file);
  const at = indexOf(entries, f.id, path);
  writeClientsFile(path, entries.filter((_, i) => i !== at));
  process.stdout.write(JSON.stringify({ revoked: f.id }) + '\n');
}

export async function clientsRotate(f: { file: string; id: string }): Promise<void> {
  const { path, entries } = entriesOf(f.file);
  const at = indexOf(entries, f.id, path);
  const key = newKey();
  entries[at] = { ...entries[at], keySha256: sha256Hex(key) };
  writeClientsFile(path, entries);
  showKey(f.id, key);
}
