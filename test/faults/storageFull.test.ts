import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../src/index/build.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import { Secret } from '../../src/index/secret.js';
import { syntheticSource } from '../../src/synth/source.js';
import { fullDateOf, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, writeClientsFile } from '../helpers/server.js';
import { IDV } from '../helpers/cli.js';
import { batchesFor, checkLog, wholeLog } from './helpers.js';

/**
 * The store fills: the index lives on a small tmpfs (mounting one needs root, as CI runs),
 * a file takes all but a little of it, and updates go on until the disk is full.
 */
let dir: string;
let mount: string;
let index: TempIndex;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idv-full-'));
  mount = join(dir, 'disk');
  mkdirSync(mount);
  const where = mount;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', where], { stdio: 'pipe' });
  } catch (err) {
    mount = '';
    throw new Error(`this test mounts a small tmpfs, which needs root (CI runs as root): ${(err as Error).message}`);
  }
  const secretFile = join(dir, 'secret.hex');
  const secret = Secret.create(secretFile);
  const indexDir = join(mount, 'index');
  const report = await buildIndex({ indexDir, secret, source: syntheticSource(3000, 9), rejectsPath: join(dir, 'rejects.ndjson'), threads: 1, buckets: 4 });
  index = { dir, indexDir, secretFile, secret, report, rejects: () => [], remove: () => {} };
});
afterAll(() => {
  if (mount) execFileSync('umount', [mount]);
  rmSync(dir, { recursive: true, force: true });
});

describe('the store fills under idv serve, its stdout and stderr in one journal', () => {
  it('keeps every log line whole: LMDB\'s own "Write error" text ends its line before the next JSON line', async () => {
    const indexDir = index.indexDir;
    const clients = join(dir, 'journal-clients.json');
    copyFileSync(writeClientsFile(dir), clients);
    // One pipe for both, as a service manager's journal takes them.
    const child = spawn('sh', ['-c', `exec "${process.execPath}" "${IDV}" serve --index "${indexDir}" --secret-file "${index.secretFile}" --clients "${clients}" --audit-dir "${join(dir, 'journal-audit')}" --port 0 2>&1`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let journal = '';
    child.stdout!.on('data', (d) => (journal += d));
    const filler = join(mount, 'filler');
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const poll = setInterval(() => {
          const line = journal.split('\n').find((l) => l.includes('"msg":"listening"'));
          if (line) {
            clearInterval(poll);
            resolve(JSON.parse(line).port);
          }
        }, 20);
        setTimeout(() => reject(new Error(`not listening: ${journal}`)), 20_000);
      });
      const url = `http://127.0.0.1:${port}`;
      // The disk filled, and batches sent until three are refused; again, if LMDB has not written its text
      // yet (it does when a write of pages fails, not when the file cannot grow).
      const batches = batchesFor(index, 200, 40, 'journal');
      let full = 0;
      for (let attempt = 0; attempt < 8 && !journal.includes('Write error'); attempt++) {
        rmSync(filler, { force: true });
        const free = statfsSync(mount);
        writeFileSync(filler, Buffer.alloc(free.bavail * free.bsize - (attempt + 1) * 256 * 1024));
        for (let refusals = 0; refusals < 3 && batches.length; ) {
          const reply = await call(url, '/v1/records', { key: KEYS.registrar, body: batches.shift()! });
          if (reply.status === 507) refusals++, full++;
        }
      }
      expect(full).toBeGreaterThanOrEqual(3);
    } finally {
      rmSync(filler, { force: true });
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const lines = journal.split('\n').filter(Boolean);
    // Each 507 is logged; a line holding JSON is JSON from its first character.
    expect(lines.filter((l) => l.includes('"code":"STORAGE_FULL"')).length).toBeGreaterThanOrEqual(3);
    // Whether LMDB wrote its text depends on which write the full disk refused first: in most runs it does (before the
    // fix, those runs failed below); said, not asserted, so a run where it did not is not taken for a fault.
    if (!lines.some((l) => l.startsWith('Write error'))) console.log('LMDB wrote no text of its own this run: only the JSON lines were checked');
    for (const line of lines) if (line.includes('{')) expect(() => JSON.parse(line), line).not.toThrow();
  }, 60_000);
});

describe('the store fills', () => {
  it('refuses updates with STORAGE_FULL while verifications go on, corrupts nothing, and resumes once space is freed', async () => {
    // An index of its own on the small disk (the test above changed the first one): its whole change log is checked here.
    const indexDir = join(mount, 'second-index');
    const report = await buildIndex({ indexDir, secret: index.secret, source: syntheticSource(3000, 10), rejectsPath: join(dir, 'second-rejects.ndjson'), threads: 1, buckets: 4 });
    const own: TempIndex = { ...index, indexDir, report };
    const server = await startTestServer(own, { auditDir: join(dir, 'audit') });
    const filler = join(mount, 'filler');
    try {
      const free = statfsSync(mount);
      writeFileSync(filler, Buffer.alloc(free.bavail * free.bsize - 1024 * 1024));
      const sent = batchesFor(own, 60, 40, 'full');
      const acknowledged = new Map<string, { firstSequence: number; lastSequence: number }>();
      let refused: { status: number; body: { error: { code: string } } } | undefined;
      for (const batch of sent) {
        const reply = await call(server.url, '/v1/records', { key: KEYS.registrar, body: batch });
        if (reply.status !== 200) {
          refused = reply;
          break;
        }
        acknowledged.set(batch.idempotencyKey, reply.body);
      }
      expect(refused?.status).toBe(507);
      expect(refused?.body.error.code).toBe('STORAGE_FULL');
      // Verifications go on, and see every acknowledged change.
      const log = await wholeLog(server.url);
      const checked = checkLog(log, sent, acknowledged);
      // The last change logged about each citizen is what verification must see (a citizen may be changed twice).
      const last = new Map(log.map((c) => [c.idNumber, c.record!]));
      for (const r of [...last.values()].slice(-20)) {
        const reply = await call(server.url, '/v1/verify', { key: KEYS.full, body: { idNumber: r.idNumber, fullName: r.fullName, dateOfBirth: fullDateOf(r.dateOfBirth) } });
        expect(reply.status).toBe(200);
        expect(reply.body.result).not.toBe('mismatch');
      }
      // Still full: refused again, not half applied.
      const again = await call(server.url, '/v1/records', { key: KEYS.registrar, body: sent[acknowledged.size] });
      expect(again.status).toBe(507);

      rmSync(filler);
      const resumed = await call(server.url, '/v1/records', { key: KEYS.registrar, body: sent[acknowledged.size] });
      expect(resumed.status).toBe(200);
      expect(resumed.body.firstSequence).toBe(log.length + 1);
      console.log(`storage full after ${acknowledged.size} batches: 507 STORAGE_FULL; ${checked}; verifications answered meanwhile; the next batch applied once space was freed`);
    } finally {
      rmSync(filler, { force: true });
      await server.close();
    }
    // Nothing corrupted: every record opens under its seal.
    const reader = IndexReader.openBuild(currentBuildDir(own.indexDir)!, own.secret);
    try {
      expect([...reader.citizens()].length).toBe(reader.meta.records);
    } finally {
      await reader.close();
    }
  });
});
