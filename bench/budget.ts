import { CandidateRefs } from '../src/verification/candidateRef.js';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { auditKeys, GENESIS, renderEntry, sealFragment } from '../src/audit/chain.js';
import type { AuditEntry } from '../src/audit/trail.js';
import { DEFAULTS } from '../src/config.js';
import { join } from 'node:path';
import { currentBuildDir, DB_FILE } from '../src/index/layout.js';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { warmPageCache } from '../src/index/warm.js';
import { ClientRegistry, sha256Hex, type ClientEntry } from '../src/clients/clients.js';
import { ThreadDispatcher } from '../src/service/dispatch.js';
import { Admission } from '../src/clients/admission.js';
import { recordDecision, type AuditNote } from '../src/http/exchange.js';
import { Metrics } from '../src/service/metrics.js';
import { ProbeGuard } from '../src/clients/probing.js';
import { RateLimiter } from '../src/clients/rateLimit.js';
import { verifications, type VerificationRoute } from '../src/routes/verifications.js';
import { Random } from '../src/synth/random.js';
import { benchIndex, BENCH_CLIENT, BENCH_KEY, NO_LIMITS } from './benchIndex.js';
import { machine, median, today, runScript } from './machine.js';
import { fullDateWithin } from './matching/pairs.js';
import { saveRun, writeReport } from './report.js';
import { RequestValidator } from '../src/contract/validator.js';

/**
 * What the work itself allows: every step a server thread takes for a request except
 * HTTP (JSON parse, authentication, rate limit, validation, lookup with the record
 * opened, matching, the guard, the answer's JSON, metrics, the audit record rendered and
 * sealed as its thread seals it), timed in one process on the index of a scale. Dividing
 * the machine's cores by that time bounds what any server design could answer here if
 * HTTP, the kernel and the load generator cost nothing; for ID checks the bare uWS
 * ceiling's own cost per request (from the suite's run at this scale) is added.
 *   npm run bench:budget -- --scale 10000000
 *   npm run bench:budget -- --smoke             CI: the small index of the suite's smoke run, printed, not saved
 */
const { values: args } = parseArgs({ options: { scale: { type: 'string', default: '1000000' }, sample: { type: 'string', default: '20000' }, smoke: { type: 'boolean', default: false } } });
const scale = args.smoke ? 20_000 : Number(args.scale);

export interface BudgetFigure {
  key: 'verify' | 'demographic' | 'batchItem';
  name: string;
  /** Median of the passes, microseconds of one thread per request (per item for the batch). */
  micros: number;
  passes: number[];
}

export interface BudgetResults {
  date: string;
  machine: string;
  scale: number;
  cores: number;
  command: string;
  figures: BudgetFigure[];
}

const PASSES = 5;

/** Runs every body once per pass, after a warm-up pass; the µs per body of each pass. */
function passes(bodies: Buffer[], run: (body: Buffer) => void, per = 1): number[] {
  for (const b of bodies) run(b);
  const out: number[] = [];
  for (let p = 0; p < PASSES; p++) {
    const started = performance.now();
    for (const b of bodies) run(b);
    out.push(((performance.now() - started) * 1000) / (bodies.length * per));
  }
  return out;
}

async function main(): Promise<void> {
  const { dir } = await benchIndex(scale);
  const secret = Secret.load(defaultSecretPath(dir));
  // As the server does before it is ready: the index's pages in the page cache.
  await warmPageCache(join(currentBuildDir(dir)!, DB_FILE));
  const reader = IndexReader.open(dir, secret);
  // As a server thread serves once it has learnt which name blocks hold somebody.
  reader.fillNameFilter();
  const random = new Random(42);
  const people = reader.sample(args.smoke ? 2_000 : Number(args.sample), () => random.next());
  // The suite's bodies: one in ten ID checks names a number nobody has.
  const verify = people.map((p) => {
    const idNumber = random.chance(0.1) ? p.idNumber.slice(0, 6) + String((Number(p.idNumber.slice(6)) + 500_007) % 1e6).padStart(6, '0') : p.idNumber;
    return JSON.stringify({ idNumber, fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random), gender: p.gender });
  });
  const demographic = people.map((p) => JSON.stringify({ fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random) }));
  const batch: string[] = [];
  for (let i = 0; i + 1000 <= verify.length; i += 1000) batch.push(`{"items":[${verify.slice(i, i + 1000).map((b) => `{"type":"id",${b.slice(1)}`).join(',')}]}`);

  // The bench client of the suite: limits the load never reaches, so every step runs and nothing is refused.
  const limits = NO_LIMITS;
  const entry: ClientEntry = { id: BENCH_CLIENT, keySha256: sha256Hex(BENCH_KEY), scopes: ['verify', 'demographic', 'batch'], ...limits, consentRequired: false, scores: true };
  const clients = new ClientRegistry([entry], limits);
  const limiter = new RateLimiter();
  const metrics = new Metrics({ process: false });
  const config = { ...DEFAULTS };
  // Requests here follow one another in one synchronous loop, so the thread's turn never ends: with no turn
  // limit, each runs at once, as a server thread's does whenever nothing waits (what is timed here); a batch
  // runs whole (a server thread runs it in slices of 16 items between other clients' turns).
  const candidateRefs = new CandidateRefs(secret.bytes);
  const dispatcher = new ThreadDispatcher(reader, candidateRefs, { ...config, turnMs: Infinity, sliceItems: Infinity });
  const admission = new Admission({ ...config, threads: 1 });
  const routes = verifications({
      dispatcher,
      metrics,
      chargeItems: (client, items) => void limiter.take(client, items - 1),
      chargeWork: (client, units) => limiter.charge(client, units),
      validator: new RequestValidator(config),
      guard: new ProbeGuard(),
      candidateRefs,
      bodyLimit: config.bodyLimitBytes,
      batchBodyLimit: config.batchBodyLimitBytes,
      batchMaxItems: config.batchMaxItems,
    });
  const keys = auditKeys(secret);
  let prev = GENESIS;
  let seq = 0;
  const authorization = `Bearer ${BENCH_KEY}`;
  const record = (entry: AuditEntry) => {
    prev = sealFragment(keys, ++seq, renderEntry(keys, entry), prev).mac;
  };

  const request = (route: VerificationRoute, served = routes) => (body: Buffer) => {
    const started = performance.now();
    const client = clients.authenticate(authorization)!;
    const ticket = admission.admit(client, served[route].items!(body.length));
    limiter.take(client);
    const note: AuditNote = {};
    const result = served[route].handle(JSON.parse(body.toString()), client, note, ticket) as object;
    ticket.release();
    JSON.stringify({ requestId: 'a1b2c3d4-1f', ...result });
    metrics.recordAnswer(route, 200, (performance.now() - started) / 1000);
    recordDecision(record, { requestId: 'a1b2c3d4-1f', endpoint: route, client: client.id, note, status: 200, latencyMs: 0.4, time: Date.now() });
  };

  const asBuffers = (texts: string[]) => texts.map((t) => Buffer.from(t));
  const figures: BudgetFigure[] = [];
  const add = (key: BudgetFigure['key'], name: string, p: number[]) => {
    figures.push({ key, name, micros: median(p), passes: p });
    process.stderr.write(`${name}: ${median(p).toFixed(1)} µs (${p.map((x) => x.toFixed(1)).join(', ')})\n`);
  };
  add('verify', 'POST /v1/verify', passes(asBuffers(verify), request('/v1/verify')));
  add('demographic', 'POST /v1/verify/demographic', passes(asBuffers(demographic), request('/v1/verify/demographic')));
  add('batchItem', 'POST /v1/verify/batch, per item of 1,000', passes(asBuffers(batch), request('/v1/verify/batch'), 1000));

  await reader.close();

  const results: BudgetResults = { date: today(), machine: machine(), scale, cores: availableParallelism(), command: `npm run bench:budget -- --scale ${scale}`, figures };
  if (args.smoke) return;
  saveRun('budget', results);
  writeReport();
}

runScript('bench/budget.js', main);
