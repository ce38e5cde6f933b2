import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seal, auditKeys, unseal, subjectsOf, GENESIS, type AuditRecord } from '../../src/audit/chain.js';
import { recordsAbout, verifyTrail } from '../../src/audit/reader.js';
import { AuditTrail, auditFiles, type AuditEntry } from '../../src/audit/trail.js';
import { Secret } from '../../src/index/secret.js';
import { idv } from '../helpers/cli.js';

let dir: string;
const secret = Secret.fromHex('5e'.repeat(32));
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idv-audit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let trails = 0;
const entry = (i: number): AuditEntry => ({
  kind: 'decision', requestId: `r-${i}`, client: 'bank-a', endpoint: '/v1/verify', type: 'id', idNumber: `0010900001${String(i % 100).padStart(2, '0')}`,
  purpose: 'account-opening', consentRef: `c-${i}`, result: i % 3 ? 'match' : 'mismatch', status: 200, latencyMs: 0.5, time: Date.now(),
});

/** A trail of `count` records in a new folder. */
async function writeTrail(count: number, maxFileBytes = 1 << 20): Promise<string> {
  const path = join(dir, `trail-${++trails}`);
  const trail = await AuditTrail.open(path, secret, { flushMs: 50, maxFileBytes });
  for (let i = 0; i < count; i++) trail.record(entry(i));
  await trail.close();
  return path;
}

const linesOf = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
const rewrite = (path: string, lines: string[]) => writeFileSync(path, lines.map((l) => l + '\n').join(''));

describe('the audit trail chain', () => {
  it('verifies a trail written across several files and reopenings', async () => {
    const path = await writeTrail(300, 8 * 1024);
    const more = await AuditTrail.open(path, secret, { flushMs: 50, maxFileBytes: 8 * 1024 });
    for (let i = 0; i < 50; i++) more.record(entry(i));
    const head = await more.close();
    expect(auditFiles(path).length).toBeGreaterThan(3);
    // The head a closing trail returns (and the server logs) is the one verify ends on.
    expect(await verifyTrail(path, secret)).toEqual({ files: auditFiles(path).length, records: 350, head });
    expect(head.seq).toBe(350);
    const last = linesOf(join(path, auditFiles(path).at(-1)!)).at(-1)!;
    expect(unseal(auditKeys(secret), last)!.record.seq).toBe(350);
  });

  it('has one writer: a second trail on the same folder is refused while the first is open, never a fork', async () => {
    const path = join(dir, `trail-${++trails}`);
    const first = await AuditTrail.open(path, secret, { flushMs: 50, maxFileBytes: 1 << 20 });
    first.record(entry(1));
    await expect(AuditTrail.open(path, secret, { flushMs: 50, maxFileBytes: 1 << 20 })).rejects.toThrow(/is locked by another audit trail writer/);
    await first.close();
    // Closed: the next server continues the same chain.
    const next = await AuditTrail.open(path, secret, { flushMs: 50, maxFileBytes: 1 << 20 });
    next.record(entry(2));
    await next.close();
    expect(await verifyTrail(path, secret)).toMatchObject({ records: 2 });
  });

  it('keeps no ID number, only its keyed hash', async () => {
    const path = await writeTrail(5);
    const text = readFileSync(join(path, auditFiles(path)[0]), 'utf8');
    expect(text).not.toContain('00109000010');
    expect(text).toMatch(/"subject":"[0-9a-f]{32}"/);
    // A consent reference is the client's text: kept as its keyed hash, whatever it holds.
    expect(text).not.toContain('"c-1"');
    expect(text).toMatch(/"consentRef":"c[0-9a-f]{31}"/);
  });

  it.each([
    ['a deleted record', (lines: string[]) => lines.filter((_, i) => i !== 10), 11, /does not follow the record before it/],
    ['an edited record', (lines: string[]) => lines.map((l, i) => (i === 10 ? l.replace('"requestId":"r-10"', '"requestId":"r-99"') : l)), 11, /does not authenticate/],
    ['two records swapped', (lines: string[]) => lines.map((l, i) => (i === 10 ? lines[11] : i === 11 ? lines[10] : l)), 11, /does not follow the record before it/],
    ['a record re-sealed without the secret', (lines: string[]) => lines.map((l, i) => (i === 10 ? seal(auditKeys(Secret.fromHex('00'.repeat(32))), { ...(JSON.parse(l) as AuditRecord), result: 'match' }).line.trimEnd() : l)), 11, /does not authenticate/],
    ['the first record deleted', (lines: string[]) => lines.slice(1), 1, /does not follow/],
  ])('names the first broken link after %s', async (_, tamper, line, problem) => {
    const path = await writeTrail(30);
    const file = join(path, auditFiles(path)[0]);
    const tampered = tamper(linesOf(file));
    expect(tampered).not.toEqual(linesOf(file));
    rewrite(file, tampered);
    const check = await verifyTrail(path, secret);
    expect(check.broken).toMatchObject({ file: auditFiles(path)[0], line });
    expect(check.broken!.problem).toMatch(problem);
    expect(check.records).toBe(line - 1);

    const cli = idv('audit', 'verify', '--audit-dir', path, '--secret-file', writeSecret());
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`the audit trail is broken at ${auditFiles(path)[0]} line ${line}`);
  });

  it('cuts a line torn by a crash, records the cut, and goes on chaining', async () => {
    const path = await writeTrail(10);
    const file = join(path, auditFiles(path)[0]);
    appendFileSync(file, '{"seq":11,"time":"2026-');
    const trail = await AuditTrail.open(path, secret, { flushMs: 50, maxFileBytes: 1 << 20 });
    trail.record(entry(11));
    await trail.close();
    expect(await verifyTrail(path, secret)).toMatchObject({ files: 1, records: 12, head: { seq: 12 } });
    expect(linesOf(file)[10]).toMatch(/"kind":"trail","note":"a torn last line of 23 bytes was cut off/);
  });

  it('reports a write that fails, keeps its records, and writes them in order once it can', async () => {
    const path = join(dir, `trail-${++trails}`);
    let written = 0;
    const errors: Record<string, unknown>[] = [];
    // Files of one record each: every flush opens a new file, which fails while the folder is gone.
    const trail = await AuditTrail.open(path, secret, { flushMs: 20, maxFileBytes: 64, onWritten: (n) => (written += n), onError: () => {}, log: (e) => errors.push(e) });
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(done()).toBe(true);
    };
    trail.record(entry(1));
    await until(() => written === 1);
    rmSync(path, { recursive: true });
    trail.record(entry(2));
    trail.record(entry(3));
    await until(() => errors.length > 0);
    expect(written).toBe(1);
    expect(errors[0]).toMatchObject({ level: 'error', msg: 'audit trail write failed', err: expect.stringContaining('ENOENT') });
    mkdirSync(path, { mode: 0o700 });
    await until(() => written === 3);
    await trail.close();
    const records = auditFiles(path).flatMap((f) => linesOf(join(path, f))).map((l) => unseal(auditKeys(secret), l)!.record);
    expect(records.map((r) => [r.seq, r.requestId])).toEqual([
      [2, 'r-2'],
      [3, 'r-3'],
    ]);
  });

  it('records a malformed entry as a note in the chain and goes on', async () => {
    const path = join(dir, `trail-${++trails}`);
    const trail = await AuditTrail.open(path, secret, { flushMs: 20, maxFileBytes: 1 << 20 });
    trail.record(entry(1));
    trail.record({ ...entry(2), time: Number.NaN });
    trail.record(entry(3));
    await trail.close();
    const check = await verifyTrail(path, secret);
    expect(check.records).toBe(3);
    expect(check).not.toHaveProperty('broken');
    const lines = linesOf(join(path, auditFiles(path)[0]));
    expect(lines.map((l) => JSON.parse(l).requestId ?? JSON.parse(l).note)).toEqual(['r-1', 'a malformed entry could not be recorded', 'r-3']);
  });

  it('refuses to continue a trail whose last record does not authenticate', async () => {
    const path = await writeTrail(3);
    await expect(AuditTrail.open(path, Secret.fromHex('00'.repeat(32)), { flushMs: 50, maxFileBytes: 1 << 20 })).rejects.toThrow(/does not authenticate/);
    expect(readdirSync(path)).toHaveLength(1);
  });
});

function writeSecret(): string {
  const path = join(dir, 'secret.hex');
  writeFileSync(path, secret.hex + '\n', { mode: 0o600 });
  return path;
}

describe('who checked a citizen', () => {
  it('finds records of both subject forms: the HMAC of the first trails and the SipHash of now', async () => {
    const path = join(dir, `trail-${++trails}`);
    mkdirSync(path, { mode: 0o700 });
    const keys = auditKeys(secret);
    const [now, before] = subjectsOf(keys, '001090000101');
    expect(now).toMatch(/^[0-9a-f]{32}$/);
    expect(before).not.toBe(now);
    const common = { time: new Date().toISOString(), kind: 'decision' as const, endpoint: '/v1/verify', status: 200 };
    const first = seal(keys, { seq: 1, ...common, requestId: 'old', subject: before, prev: GENESIS });
    const second = seal(keys, { seq: 2, ...common, requestId: 'other', subject: subjectsOf(keys, '079190000202')[0], prev: first.mac });
    const third = seal(keys, { seq: 3, ...common, requestId: 'new', subject: now, prev: second.mac });
    writeFileSync(join(path, 'audit-20261127-0001.ndjson'), first.line + second.line + third.line, { mode: 0o600 });
    const found: string[] = [];
    for await (const record of recordsAbout(path, secret, '001090000101')) found.push(record.requestId!);
    expect(found).toEqual(['old', 'new']);
    expect((await verifyTrail(path, secret)).broken).toBeUndefined();
  });
});
