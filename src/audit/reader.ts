import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Secret } from '../index/secret.js';
import { auditKeys, consentRefOf, GENESIS, subjectsOf, unseal, type AuditKeys, type AuditRecord } from './chain.js';
import { auditFiles } from './trail.js';

export interface ChainBreak {
  file: string;
  /** 1-based line within the file. */
  line: number;
  problem: string;
}

export interface TrailCheck {
  files: number;
  records: number;
  /** The last intact record: compare with the head the server logs when it stops, to see that none were cut off the end. */
  head?: { seq: number; mac: string };
  /** The first link that does not hold, if any: everything before it is intact. */
  broken?: ChainBreak;
}

async function* lines(dir: string): AsyncGenerator<{ file: string; line: number; text: string }> {
  for (const file of auditFiles(dir)) {
    let line = 0;
    for await (const text of createInterface({ input: createReadStream(join(dir, file)), crlfDelay: Infinity })) yield { file, line: ++line, text };
  }
}

/** Walks the chain from its first record and names the first link that does not hold. */
export async function verifyTrail(dir: string, secret: Secret): Promise<TrailCheck> {
  const keys = auditKeys(secret);
  let prev = GENESIS;
  let seq = 0;
  let records = 0;
  for await (const { file, line, text } of lines(dir)) {
    const at = (problem: string): TrailCheck => ({ files: auditFiles(dir).length, records, ...(seq ? { head: { seq, mac: prev } } : {}), broken: { file, line, problem } });
    const sealed = unseal(keys, text);
    if (!sealed) return at('the record does not authenticate: it was edited, or is not a record of this trail');
    if (sealed.record.prev !== prev) return at(`record ${sealed.record.seq} does not follow the record before it (${seq}): records were deleted, inserted or reordered`);
    if (sealed.record.seq !== seq + 1) return at(`record ${sealed.record.seq} follows record ${seq}`);
    prev = sealed.mac;
    seq = sealed.record.seq;
    records++;
  }
  return { files: auditFiles(dir).length, records, ...(seq ? { head: { seq, mac: prev } } : {}) };
}

/** Every authenticated record about one citizen (by ID number or legacy number), oldest first: "who checked my identity?". */
export function recordsAbout(dir: string, secret: Secret, idNumber: string): AsyncGenerator<AuditRecord> {
  const keys = auditKeys(secret);
  const subjects = subjectsOf(keys, idNumber);
  return matching(dir, keys, subjects, ({ subject, found }) => (subject !== undefined && subjects.includes(subject)) || (found?.some((s) => subjects.includes(s)) ?? false));
}

/** Every authenticated record of a decision that stated this consent reference, oldest first. */
export function recordsWithConsent(dir: string, secret: Secret, consentRef: string): AsyncGenerator<AuditRecord> {
  const keys = auditKeys(secret);
  const hashed = consentRefOf(keys, consentRef);
  return matching(dir, keys, [hashed], (record) => record.consentRef === hashed);
}

/** The authenticated records whose line holds one of `texts` and that `wanted` keeps (the text test spares the MAC of every other line). */
async function* matching(dir: string, keys: AuditKeys, texts: string[], wanted: (record: AuditRecord) => boolean): AsyncGenerator<AuditRecord> {
  for await (const { text } of lines(dir)) {
    if (!texts.some((s) => text.includes(s))) continue;
    const sealed = unseal(keys, text);
    if (sealed && wanted(sealed.record)) yield sealed.record;
  }
}
