import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../index/secret.js';
import type { AuditEntry } from './trail.js';
import { sipHash128 } from '../index/siphash.js';

/**
 * One audit record per line: a JSON object whose last member is `mac`, an HMAC-SHA256
 * (key derived from the index secret) of the line up to that member. Each record
 * names the previous record's mac in `prev`, and records are numbered by `seq`, so a
 * deleted, edited, inserted or reordered record breaks the chain where it happened;
 * without the secret nobody can forge a replacement.
 */
export interface AuditRecord {
  seq: number;
  time: string;
  /** A verification, a batch item, or an event of the trail itself (a restart after a torn write). */
  kind: 'decision' | 'item' | 'trail';
  requestId?: string;
  client?: string | null;
  endpoint?: string;
  item?: number;
  type?: 'id' | 'demographic';
  purpose?: string;
  /** Keyed hash of the client's consent reference: a reference may hold anything, and the trail keeps no personal data. */
  consentRef?: string;
  /** Keyed hash of the ID number the decision was about; never the number itself. */
  subject?: string;
  /** Keyed hashes of the citizens the answer reached: a search's candidates, the holder a legacy number identified. */
  found?: string[];
  result?: string;
  status?: number;
  code?: string;
  latencyMs?: number;
  note?: string;
  prev: string;
}

export const GENESIS = '0'.repeat(64);
const MAC_TAIL = /,"mac":"([0-9a-f]{64})"}$/;

export interface AuditKeys {
  chain: Buffer;
  /** HMAC-SHA256 key of the first subjects (v1), which `idv audit query` still finds. */
  subjectV1: Buffer;
  /** SipHash-2-4 key of the subjects written now (v2). */
  subject: Buffer;
}

export function auditKeys(secret: Secret): AuditKeys {
  const derive = (label: string) => createHmac('sha256', secret.bytes).update(label).digest();
  return { chain: derive('idv/audit/chain/v1'), subjectV1: derive('idv/audit/subject/v1'), subject: derive('idv/audit/subject/siphash-2-4/v2').subarray(0, 16) };
}

const subjectScratch = Buffer.allocUnsafe(64);
const subjectTag = Buffer.allocUnsafe(16);

/**
 * The keyed hash that stands for a citizen in the trail (a 12-digit or a 9-digit legacy
 * number): the 128-bit SipHash-2-4 tag, as the index keys use, ~0.3 µs where the HMAC of
 * the first trails took 2 µs on every decision.
 */
export function subjectOf(keys: Pick<AuditKeys, 'subject'>, idNumber: string): string {
  const data = idNumber.length <= 16 ? subjectScratch : Buffer.from(idNumber);
  const length = data === subjectScratch ? subjectScratch.write(idNumber, 'utf8') : data.length;
  sipHash128(keys.subject, data, length, subjectTag);
  return subjectTag.toString('hex');
}

/**
 * The keyed hash a consent reference is kept as: the client's reference may hold anything
 * (a raw ID number, a name), so the trail holds only what finds the reference again
 * (`idv audit query --consent-ref`). Hashed under its own domain ("consent:"), so it never
 * equals a citizen's subject; the leading "c" tells a reader which it is.
 */
export function consentRefOf(keys: Pick<AuditKeys, 'subject'>, consentRef: string): string {
  return 'c' + subjectOf(keys, `consent:${consentRef}`).slice(0, 31);
}

/** Every form a citizen's subject has had in the trail, newest first: a query finds records of either. */
export function subjectsOf(keys: AuditKeys, idNumber: string): string[] {
  return [subjectOf(keys, idNumber), createHmac('sha256', keys.subjectV1).update(idNumber).digest('hex').slice(0, 32)];
}

/** The line for a record, sealed with its mac; returns the line (with newline) and the mac. */
export function seal(keys: AuditKeys, record: AuditRecord): { line: string; mac: string } {
  const body = JSON.stringify(record);
  return sealBody(keys, body);
}

/**
 * The same line from a record's members as rendered by renderEntry, placed between seq and
 * prev: the writer only numbers, chains and seals, since the rendering was done where the
 * entry was made (a server thread).
 */
export function sealFragment(keys: AuditKeys, seq: number, fragment: string, prev: string): { line: string; mac: string } {
  return sealBody(keys, `{"seq":${seq},${fragment},"prev":"${prev}"}`);
}

function sealBody(keys: AuditKeys, body: string): { line: string; mac: string } {
  const mac = createHmac('sha256', keys.chain).update(body).digest('hex');
  return { line: `${body.slice(0, -1)},"mac":"${mac}"}\n`, mac };
}

/** A trail event (a cut torn line, dropped or malformed entries) as a record's members. */
export function noteFragment(note: string, time = new Date()): string {
  return JSON.stringify({ time: time.toISOString(), kind: 'trail', note }).slice(1, -1);
}

/**
 * An entry as the members of its record, without braces (JSON escapes line breaks, so
 * fragments travel joined by newlines): the time as ISO 8601, and the ID number replaced
 * by its keyed hash. An entry that cannot be rendered (a time that is no date) becomes a
 * note saying so, so the chain shows it was lost.
 */
export function renderEntry(keys: Pick<AuditKeys, 'subject'>, entry: AuditEntry): string {
  const time = new Date(entry.time);
  if (Number.isNaN(time.getTime())) return noteFragment('a malformed entry could not be recorded');
  // Members written one by one in a fixed order: no intermediate record object per decision.
  let out = `"time":"${time.toISOString()}"`;
  out += member('kind', entry.kind) + member('requestId', entry.requestId) + member('client', entry.client) + member('endpoint', entry.endpoint);
  out += member('item', entry.item) + member('type', entry.type) + member('purpose', entry.purpose);
  if (entry.consentRef !== undefined) out += member('consentRef', consentRefOf(keys, entry.consentRef));
  if (entry.idNumber !== undefined) out += member('subject', subjectOf(keys, entry.idNumber));
  const found = entry.found?.filter((id) => id !== entry.idNumber);
  if (found?.length) out += `,"found":[${found.map((id) => `"${subjectOf(keys, id)}"`).join(',')}]`;
  return out + member('result', entry.result) + member('status', entry.status) + member('code', entry.code) + member('latencyMs', entry.latencyMs);
}

/** `,"name":value` as JSON.stringify writes it, or nothing for an absent member. */
function member(name: string, value: string | number | null | undefined): string {
  return value === undefined ? '' : `,"${name}":${JSON.stringify(value)}`;
}

/** Parses and authenticates one line; undefined when it is not a record sealed with these keys. */
export function unseal(keys: AuditKeys, line: string): { record: AuditRecord; mac: string } | undefined {
  const tail = MAC_TAIL.exec(line);
  if (!tail) return undefined;
  const body = line.slice(0, tail.index) + '}';
  const expected = createHmac('sha256', keys.chain).update(body).digest();
  if (!timingSafeEqual(expected, Buffer.from(tail[1], 'hex'))) return undefined;
  try {
    return { record: JSON.parse(body) as AuditRecord, mac: tail[1] };
  } catch {
    return undefined;
  }
}
