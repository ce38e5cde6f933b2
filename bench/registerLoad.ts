import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { copyFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Citizen } from '../src/domain/citizen.js';
import { currentBuildDir, CURRENT } from '../src/index/layout.js';
import { defaultSecretPath } from '../src/index/secret.js';
import { sha256Hex } from '../src/clients/clients.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import type { Random } from '../src/synth/random.js';
import { BENCH_KEY, NO_LIMITS } from './benchIndex.js';
import { fullDateWithin } from './matching/pairs.js';

/** The live register under load: what bench/register.ts and bench/soak.ts share. */

export const ADMIN_KEY = 'bench-admin-key-not-secret';
const BATCH = 100;

/** A copy of the bench index that changes may alter: its current build and the secret. */
export function registerCopy(benchDir: string, scale: number): { dir: string; clients: string; remove: () => void } {
  const dir = join(PACKAGE_ROOT, '.idv', `register-${scale}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const build = currentBuildDir(benchDir)!;
  const name = build.split('/').at(-1)!;
  cpSync(build, join(dir, name), { recursive: true });
  rmSync(join(dir, name, 'index.mdb-lock'), { force: true });
  execFileSync('ln', ['-s', name, join(dir, CURRENT)]);
  rmSync(defaultSecretPath(dir), { force: true });
  copyFileSync(defaultSecretPath(benchDir), defaultSecretPath(dir));
  const clients = join(dir, 'clients.json');
  const unlimited = { ...NO_LIMITS, consentRequired: false, scores: true };
  writeFileSync(
    clients,
    JSON.stringify({
      clients: [
        { id: 'bench', keySha256: sha256Hex(BENCH_KEY), scopes: ['verify', 'demographic', 'batch'], ...unlimited },
        { id: 'registrar', keySha256: sha256Hex(ADMIN_KEY), scopes: ['admin'], ...unlimited },
      ],
    }),
  );
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(defaultSecretPath(dir), { force: true });
  };
  return { dir, clients, remove };
}

// The stream's sender and prober share the two cores with the load they measure, so they
// post over kept-alive node:http connections: measured at 10M, fetch cost the bench 0.07 of a
// core for 2,000 changes a second (its probes included), about a quarter of the stream's whole cost.
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** POSTs a JSON body; the status and the parsed answer. */
function postJson(url: string, path: string, key: string, body: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends `rate` changes a second (batches of 100) for `seconds`; after each batch is
 * acknowledged, asks /v1/verify about one of its citizens until the change shows: the
 * delay from sending to visible.
 */
export async function changeStream(url: string, people: Citizen[], startAt: number, random: Random, rate: number, seconds: number, onVisible?: (ms: number) => void, stopped: () => boolean = () => false): Promise<{ sent: number; visibleMs: number[] }> {
  const visibleMs: number[] = [];
  const batches = Math.round((rate * seconds) / BATCH);
  const interval = (BATCH / rate) * 1000;
  const started = performance.now();
  let sent = 0;
  const inFlight: Promise<void>[] = [];
  for (let b = 0; b < batches && !stopped(); b++) {
    const due = started + b * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const slice = people.slice((startAt + b * BATCH) % people.length, ((startAt + b * BATCH) % people.length) + BATCH);
    const changes = slice.map((p) => ({ op: 'revokeCard', idNumber: p.idNumber }));
    const probe = slice[Math.floor(random.next() * slice.length)];
    const sentAt = performance.now();
    inFlight.push(
      (async () => {
        const reply = await postJson(url, '/v1/records', ADMIN_KEY, JSON.stringify({ idempotencyKey: `stream-${startAt}-${b}`, changes }));
        if (reply.status !== 200) throw new Error(`a change batch was answered ${reply.status}: ${JSON.stringify(reply.body)}`);
        sent += changes.length;
        const claim = JSON.stringify({ idNumber: probe.idNumber, fullName: probe.fullName, dateOfBirth: fullDateWithin(probe.dateOfBirth, random) });
        for (;;) {
          const seen = (await postJson(url, '/v1/verify', BENCH_KEY, claim)).body;
          if ((seen as { status?: { card?: string } }).status?.card === 'revoked') break;
          // Not yet: asked again shortly, not in a tight loop (the prober shares the cores it measures).
          await new Promise((r) => setTimeout(r, 5));
        }
        visibleMs.push(performance.now() - sentAt);
        onVisible?.(performance.now() - sentAt);
      })(),
    );
  }
  await Promise.all(inFlight);
  return { sent, visibleMs };
}

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};

/** The register's everyday changes about people on record (bench:register's `idv apply` file, a replica's catch-up): cards reissued and revoked, deaths, renames, whole records. */
export function changesAbout(people: Citizen[], random: Random): object[] {
  return people.map((p, i) => {
    const r = random.next();
    if (r < 0.3) return { op: 'reissueCard', idNumber: p.idNumber, cardIssueDate: `2026-${String(1 + (i % 11)).padStart(2, '0')}-15` };
    if (r < 0.5) return { op: 'revokeCard', idNumber: p.idNumber };
    if (r < 0.65) return { op: 'deceased', idNumber: p.idNumber };
    if (r < 0.85) return { op: 'rename', idNumber: p.idNumber, fullName: `${p.fullName.split(' ')[0]} ${p.fullName.split(' ').at(-1)}` };
    return { op: 'upsert', record: { ...p, placeOfResidence: 'Thành phố Hà Nội' } };
  });
}
