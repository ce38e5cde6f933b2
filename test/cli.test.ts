import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { checkCitizen } from '../src/domain/citizen.js';
import { idv, idvWithin, logLines, startCli } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';
import { call, freePort, KEYS, writeClientsFile } from './helpers/server.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idv-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('idv gen', () => {
  it('is deterministic for a seed, and valid by the import rules', () => {
    const a = idv('gen', '--count', '300', '--seed', '5');
    const b = idv('gen', '--count', '300', '--seed', '5');
    const c = idv('gen', '--count', '300', '--seed', '6');
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    const lines = a.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(300);
    for (const line of lines) expect(checkCitizen(JSON.parse(line))).toMatchObject({ ok: true });
  });

  it('writes to --out', () => {
    const out = join(dir, 'people.ndjson');
    expect(idv('gen', '--count', '10', '--out', out).status).toBe(0);
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(10);
  });

  it('refuses a bad flag with a usage error', () => {
    const r = idv('gen', '--cuont', '10');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage: idv');
  });
});

describe('idv build --input, then idv serve --clients', () => {
  it('builds from a file made elsewhere and serves it by the contract', async () => {
    const secretFile = join(dir, 'secret.hex');
    writeFileSync(secretFile, 'ef'.repeat(32) + '\n', { mode: 0o600 });
    const indexDir = join(dir, 'index');
    const built = idv('build', '--input', fixture('bad-lines.ndjson'), '--index', indexDir, '--secret-file', secretFile, '--rejects', join(dir, 'rejects.ndjson'));
    expect(built.status).toBe(0);
    const summary = logLines(built.stdout).find((e) => e.msg === 'index built');
    expect(summary).toMatchObject({ records: 2, rejects: 10 });
    expect(readFileSync(join(dir, 'rejects.ndjson'), 'utf8').trimEnd().split('\n')).toHaveLength(10);

    const server = await startCli('serve', ['--index', indexDir, '--secret-file', secretFile, '--clients', writeClientsFile(dir), '--threads', '1']);
    try {
      const url = server.url;
      const reply = await call(url, '/v1/verify', { key: KEYS.full, body: { idNumber: '001090000117', fullName: 'Trinh Van Bao', dateOfBirth: '1990-01-01' } });
      expect(reply.body).toMatchObject({ result: 'match', fields: { fullName: { level: 'normalized' }, dateOfBirth: { match: true, precision: 'day' } } });
      expect((await call(url, '/v1/verify', { key: 'demo', body: { idNumber: '001090000117', fullName: 'Trinh Van Bao', dateOfBirth: '1990-01-01' } })).status).toBe(401);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('check finds nothing after the build, then each record changed since, by line and field; info shows the source', () => {
    const indexDir = join(dir, 'index');
    const secretFile = join(dir, 'secret.hex');
    const clean = idv('check', '--index', indexDir, '--input', fixture('bad-lines.ndjson'), '--secret-file', secretFile);
    expect(clean.status, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout), clean.stdout).toEqual({ summary: { same: 2, rejectedAtBuild: 10, differences: 0, sourceRecords: 12, sameSourceAsBuild: true } });

    const edited = join(dir, 'edited.ndjson');
    writeFileSync(edited, readFileSync(fixture('bad-lines.ndjson'), 'utf8').replace('Nguyễn Văn An', 'Nguyễn Văn Ân'));
    const changed = idv('check', '--index', indexDir, '--input', edited, '--secret-file', secretFile);
    expect(changed.status, changed.stderr).toBe(1);
    expect(changed.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { line: 1, problem: 'differs', fields: ['fullName'] },
      { summary: { same: 1, rejectedAtBuild: 10, differences: 1, sourceRecords: 12, sameSourceAsBuild: false } },
    ]);
    expect(changed.stderr).toContain('1 source records differ from the index');

    const shown = idv('info', '--index', indexDir);
    expect(shown.status, shown.stderr).toBe(0);
    const info = JSON.parse(shown.stdout);
    expect(info, shown.stdout).toMatchObject({ records: 2, rejects: 10, sourceRecords: 12, sourceBytes: statSync(fixture('bad-lines.ndjson')).size, buildRunning: null });
    expect(info.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info).not.toHaveProperty('dictionary');
  });

  it('serve refuses an index built with another secret', () => {
    const other = join(dir, 'other.hex');
    writeFileSync(other, '01'.repeat(32), { mode: 0o600 });
    const r = idv('serve', '--index', join(dir, 'index'), '--secret-file', other, '--port', '0', '--demo');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('another secret');
  });

  it('serve refuses a port another server listens on, and the first answers every request', async () => {
    const indexDir = join(dir, 'index');
    const secretFile = join(dir, 'secret.hex');
    // A port named, as an operator names it: uWS shares a port chosen by the kernel (port 0) with nobody anyway.
    const port = await freePort();
    const first = await startCli('serve', ['--index', indexDir, '--secret-file', secretFile, '--clients', writeClientsFile(dir), '--threads', '1', '--port', String(port)]);
    try {
      // Another server, whose clients file knows none of the first one's keys.
      const otherClients = join(dir, 'other-clients.json');
      writeFileSync(otherClients, JSON.stringify({ clients: [{ id: 'someone-else', keySha256: 'ab'.repeat(32), scopes: ['verify'] }] }));
      // With a trail of its own: the port is what this refuses (a shared trail is refused too, below).
      const second = idvWithin(15_000, 'serve', '--index', indexDir, '--secret-file', secretFile, '--clients', otherClients, '--host', '127.0.0.1', '--port', String(first.port), '--audit-dir', join(dir, 'second-audit'));
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`cannot listen on 127.0.0.1:${first.port}: another process listens there`);
      // On another port but the same audit trail: refused at start, so the chain never forks.
      const sharing = idvWithin(15_000, 'serve', '--index', indexDir, '--secret-file', secretFile, '--clients', otherClients, '--host', '127.0.0.1', '--port', '0');
      expect(sharing.status).toBe(1);
      expect(sharing.stderr).toMatch(/is locked by another audit trail writer/);
      // Each request on a connection of its own, as the kernel would spread them.
      const statuses = await Promise.all(Array.from({ length: 200 }, () => postOnNewConnection(first.port, '/v1/verify', { idNumber: '001090000117', fullName: 'Trịnh Văn Bảo', dateOfBirth: '1990-01-01' }, KEYS.full)));
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  it('serves an index built --unsealed only --unprotected, and a sealed one never --unprotected', async () => {
    const sealedDir = join(dir, 'index');
    const unsealedDir = join(dir, 'unsealed');
    const secretFile = join(dir, 'secret.hex');
    const built = idv('build', '--input', fixture('citizens.ndjson'), '--index', unsealedDir, '--secret-file', secretFile, '--unsealed');
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toContain('for measurement only');
    const clients = writeClientsFile(dir);
    const refusedPlain = idv('serve', '--index', unsealedDir, '--secret-file', secretFile, '--clients', clients, '--port', '0');
    expect(refusedPlain.status).toBe(1);
    expect(refusedPlain.stderr).toContain('built --unsealed, for measurement only');
    const refusedSealed = idv('serve', '--index', sealedDir, '--secret-file', secretFile, '--clients', clients, '--port', '0', '--unprotected');
    expect(refusedSealed.status).toBe(1);
    expect(refusedSealed.stderr).toContain('the index is sealed');

    const auditDir = join(unsealedDir, 'audit');
    const trail = () => (existsSync(auditDir) ? readdirSync(auditDir).map((f) => readFileSync(join(auditDir, f), 'utf8')).join('') : '');
    const before = trail();
    const server = await startCli('serve', ['--index', unsealedDir, '--secret-file', secretFile, '--clients', clients, '--threads', '1', '--unprotected']);
    try {
      const claim = { idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' };
      expect((await call(server.url, '/v1/verify', { key: KEYS.full, body: claim })).body.result).toBe('match');
      // portal-c may make one request a thousand seconds; unprotected, nobody is limited.
      for (let i = 0; i < 3; i++) expect((await call(server.url, '/v1/verify', { key: KEYS.limited, body: claim })).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(trail()).toBe(before);
  });

  it('build creates a missing secret file with mode 0600, beside the index directory and not in it', () => {
    const indexDir = join(dir, 'index2');
    const r = idv('build', '--synthetic', '50', '--index', indexDir);
    expect(r.status).toBe(0);
    expect(statSync(`${indexDir}.secret.hex`).mode & 0o777).toBe(0o600);
    expect(readdirSync(indexDir).filter((f) => f.includes('secret'))).toEqual([]);
  });
});

describe('idv demo', () => {
  /** Starts the demo on a free port; resolves with its stderr so far once it listens, then stops it. */
  async function demoRun(indexDir: string): Promise<string> {
    const demo = await startCli('demo', ['--index', indexDir, '--count', '500', '--threads', '1']);
    const stderr = demo.stderr();
    await demo.stop();
    return stderr;
  }

  it('builds its index when absent or of an older format, and reuses a current one', async () => {
    const indexDir = join(dir, 'demo');
    expect(await demoRun(indexDir)).toContain(`No index at ${indexDir}: building`);
    expect(await demoRun(indexDir)).not.toContain('building');
    const { openDbs, currentBuildDir } = await import('../src/index/layout.js');
    const dbs = openDbs(currentBuildDir(indexDir)!, 'build');
    await dbs.meta.put('meta', { ...(dbs.meta.get('meta') as object), formatVersion: 1 });
    await dbs.env.close();
    expect(await demoRun(indexDir)).toMatch(/is of format 1, not \d+: building/);
  });

  it('starts a new audit trail when it rebuilds, so a trail sealed under an earlier secret does not stop it', async () => {
    const indexDir = join(dir, 'demo-resecret');
    await demoRun(indexDir);
    // A record of the trail, sealed under the secret of this first build.
    const { auditKeys, seal, GENESIS } = await import('../src/audit/chain.js');
    const { Secret } = await import('../src/index/secret.js');
    const keys = auditKeys(Secret.load(`${indexDir}.secret.hex`));
    const record = seal(keys, { seq: 1, time: new Date().toISOString(), kind: 'decision', endpoint: '/v1/verify', status: 401, prev: GENESIS });
    writeFileSync(join(indexDir, 'audit', 'audit-20261127-0001.ndjson'), record.line, { mode: 0o600 });
    // As after an upgrade: another secret, and an index of an older format.
    rmSync(`${indexDir}.secret.hex`);
    const { openDbs, currentBuildDir } = await import('../src/index/layout.js');
    const dbs = openDbs(currentBuildDir(indexDir)!, 'build');
    await dbs.meta.put('meta', { ...(dbs.meta.get('meta') as object), formatVersion: 1 });
    await dbs.env.close();
    const said = await demoRun(indexDir);
    expect(said).toMatch(/earlier audit trail is kept in .*audit-before-/);
    expect(readdirSync(indexDir).filter((f) => f.startsWith('audit-before-'))).toHaveLength(1);
  });
});

/** A POST on a fresh TCP connection (no keep-alive pool): its status. */
function postOnNewConnection(port: number, path: string, body: object, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
