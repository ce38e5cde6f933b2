import { checkIdNumber } from '../src/domain/idNumber.js';
import { canonicalText, foldedTokens } from '../src/domain/text.js';
import { matchName } from '../src/domain/names.js';
import { RecordCodec } from '../src/index/codec.js';
import { Dictionary } from '../src/index/dictionary.js';
import { newSalt, RecordSeal } from '../src/index/sealing.js';
import { ID_KEY_BYTES, idKeyText, keyHasher, queryBlockTexts } from '../src/index/keys.js';
import { syntheticCitizens } from '../src/synth/generator.js';
import { median } from './machine.js';
import { auditKeys, GENESIS, seal, subjectOf, type AuditRecord } from '../src/audit/chain.js';
import { Secret } from '../src/index/secret.js';
import { ProbeGuard } from '../src/clients/probing.js';
import { CandidateRefs } from '../src/verification/candidateRef.js';
import type { WorkResult } from '../src/verification/types.js';

export interface MicroFigure {
  name: string;
  nsPerOp: number;
  opsPerSecond: number;
}

/** Runs `fn` over the inputs for about `ms` milliseconds, five times; the median ns per call. */
function measure<T>(name: string, inputs: T[], fn: (x: T) => unknown, ms = 300): MicroFigure {
  let sink: unknown;
  for (let i = 0; i < Math.min(inputs.length, 10_000); i++) sink = fn(inputs[i]); // warm up
  const samples: number[] = [];
  for (let run = 0; run < 5; run++) {
    let calls = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      for (let i = 0; i < 1000; i++) sink = fn(inputs[(calls + i) % inputs.length]);
      calls += 1000;
    }
    samples.push(((performance.now() - start) * 1e6) / calls);
  }
  if (sink === Symbol.for('never')) process.stdout.write('');
  const ns = median(samples);
  return { name, nsPerOp: Math.round(ns), opsPerSecond: Math.round(1e9 / ns) };
}

/** The hot functions of the request path, on realistic inputs drawn from the synthetic population. */
export function microbenchmarks(): MicroFigure[] {
  const people = [...syntheticCitizens(3, 0, 20_000)];
  const codec = new RecordCodec(Dictionary.standard());
  const encoded = people.map((p) => Buffer.from(codec.encode(p)));
  const hash = keyHasher(Buffer.alloc(32, 1));
  const recordSeal = new RecordSeal(Buffer.alloc(32, 1), newSalt(), ID_KEY_BYTES);
  const stored = people.map((p, i) => {
    const key = hash(idKeyText(p.idNumber), ID_KEY_BYTES);
    return { key, sealed: recordSeal.seal(key, encoded[i]) };
  });
  const claims = people.map((p) => p.fullName.toUpperCase().normalize('NFD'));
  const auditKey = auditKeys(Secret.fromHex('ab'.repeat(32)));
  let prev = GENESIS;
  let seq = 0;
  const sealDecision = (idNumber: string) => {
    const record = { seq: ++seq, time: new Date().toISOString(), kind: 'decision', requestId: 'a1b2c3d4-1f', client: 'bank-a', endpoint: '/v1/verify', type: 'id', purpose: 'account-opening', consentRef: 'c-2026-0042', subject: subjectOf(auditKey, idNumber), result: 'match', status: 200, latencyMs: 0.41, prev } as AuditRecord;
    prev = seal(auditKey, record).mac;
  };
  const refs = new CandidateRefs(Buffer.alloc(32, 2));
  const sealedRefs = people.map((p) => refs.seal(p.idNumber, 'bank-a'));
  const guard = new ProbeGuard();
  const limits = { ratePerSecond: 1, burst: 1, dailyQuota: 1, mismatchesPerCitizen: 5, emptySearchesPerName: 20, emptySearchesPerDate: 20, emptySearchesPerHour: 100, notFoundPerHour: 100, pendingItems: 4000 };
  const client = { id: 'bank-a', scopes: new Set<never>(), limits, consentRequired: true, scores: false };
  const options = { nameThreshold: 85, maxCandidates: 20 };
  const match = { result: 'match', fields: {}, status: { alive: true, card: 'valid' } } as WorkResult;
  const none = { result: 'none', total: 0, candidates: [] } as WorkResult;
  const searcher = { ...client, id: 'searcher', limits: { ...limits, emptySearchesPerName: 1e12, emptySearchesPerDate: 1e12, emptySearchesPerHour: 1e12 } };
  return [
    measure('ID-number check', people.map((p) => p.idNumber), (id) => checkIdNumber(id)),
    measure('name normalization (canonical)', claims, (n) => canonicalText(n)),
    measure('name normalization (folded tokens)', claims, (n) => foldedTokens(n)),
    measure('keyed hash (ID key)', people.map((p) => idKeyText(p.idNumber)), (t) => hash(t, ID_KEY_BYTES)),
    measure('demographic block keys', people, (p) => queryBlockTexts(p.fullName, p.dateOfBirth)),
    measure('record decode', encoded, (b) => codec.decode(b)),
    // What encryption at rest adds to every record a lookup reads (one per ID check, one per candidate of a search).
    measure('record open (XChaCha20-Poly1305) and decode', stored, (r) => codec.decode(recordSeal.open(r.key, r.sealed))),
    measure('record seal (build, per record)', stored, (r) => recordSeal.seal(r.key, encoded[0])),
    measure('record encode', people, (p) => codec.encode(p)),
    measure('name scoring (exact)', people, (p) => matchName(p.fullName, p.fullName)),
    measure('name scoring (fuzzy: dropped middle name)', people, (p) => matchName(p.fullName, p.fullName.split(' ').filter((_, i, a) => i === 0 || i === a.length - 1).join(' '))),
    // What privacy and audit add per decision, all on the event loop today.
    measure('audit record: subject hash, seal and chain', people, (p) => sealDecision(p.idNumber)),
    measure('candidate reference: seal (per candidate listed)', people, (p) => refs.seal(p.idNumber, 'bank-a')),
    measure('candidate reference: open (a follow-up verify)', sealedRefs, (r) => refs.open(r, 'bank-a')),
    measure('probing guard, client with no guessing on record', people, (p) => guard.filter(client, { type: 'id', claim: { idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: p.dateOfBirth }, options }, match)),
    // A search that found nobody: counted against every person its lookups reached, its date and the hour (limits no run reaches).
    measure('probing guard, a search that found nobody', people, (p) => guard.filter(searcher, { type: 'demographic', query: { fullName: p.fullName, dateOfBirth: p.dateOfBirth }, options }, none)),
  ];
}

if (process.argv[1]?.endsWith('bench/micro.js')) {
  for (const f of microbenchmarks()) process.stdout.write(`${f.name.padEnd(44)} ${String(f.nsPerOp).padStart(7)} ns  ${f.opsPerSecond.toLocaleString('en').padStart(12)}/s\n`);
}
