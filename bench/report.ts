import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import type { BuildFigures } from './build.js';
import type { MicroFigure } from './micro.js';
import type { Figure } from './targets.js';
import type { ImportResults } from './importing.js';
import type { BudgetResults } from './budget.js';
import type { RegisterResults } from './register.js';
import { streamCost } from './registerRuns.js';
import type { SoakResults } from './soak.js';
import type { FairnessResults } from './fairness.js';
import type { RuntimesResults } from './runtimes.js';
import type { ReplicationResults } from './replication.js';
import type { PeerResults } from './peer.js';
import { targetsAt } from './targets.js';
import { median } from './machine.js';

export interface SuiteResults {
  date: string;
  machine: string;
  scale: number;
  command: string;
  loadGenerator: string;
  seconds: number;
  figures: Figure[];
  build?: BuildFigures;
  micro: MicroFigure[];
}

const DIR = join(PACKAGE_ROOT, 'bench', 'results');

/** Saves one run as bench/results/<kind>-<scale>.json, replacing the last run of that kind and scale. */
export function saveRun(kind: string, results: { scale: number }): void {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, `${kind}-${results.scale}.json`), JSON.stringify(results, null, 2) + '\n');
}

/** The saved runs of one kind, smallest scale first. */
export function savedRuns<T extends { scale: number }>(kind: string): T[] {
  return readdirSync(DIR)
    .filter((f) => f.startsWith(`${kind}-`) && f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as T)
    .sort((a, b) => a.scale - b.scale);
}

/** A hand-written file appended to a generated report, or "" before one is written. */
export function handWritten(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function saveResults(results: SuiteResults): void {
  saveRun('scale', results);
  writeReport();
}

/** Rewrites bench/RESULTS.md from every saved run. */
export function writeReport(): void {
  writeFileSync(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'), renderAll());
}

const GiB = 1024 ** 3;
function show(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  if (unit === 'bytes') {
    const size = Math.abs(value);
    return size >= GiB ? `${(value / GiB).toFixed(2)} GiB` : size >= 1e6 ? `${(value / 2 ** 20).toFixed(1)} MiB` : `${value.toFixed(1)} B`;
  }
  if (unit === 'req/s' || unit === 'items/s') return `${Math.round(value).toLocaleString('en')} ${unit}`;
  if (unit === 'ratio') return value.toFixed(2);
  if (unit === 'yes=1') return value ? 'yes' : 'no';
  return `${+value.toFixed(2)} ${unit}`;
}

const buildPhases = (b: BuildFigures) =>
  Object.entries(b.phaseSeconds)
    .map(([p, s]) => `${p} ${s.toFixed(s < 10 ? 1 : 0)} s (${b.recordsPerSecond[p].toLocaleString('en')} records/s)`)
    .join(', ');

function renderImports(runs: ImportResults[]): string {
  if (!runs.length) return '';
  const rows = runs.flatMap((r) =>
    r.imports.map(
      (i) =>
        `| ${r.scale.toLocaleString('en')} | ${i.format.toUpperCase()} | ${show(i.fileBytes, 'bytes')} | ${i.build.records.toLocaleString('en')} | ${i.build.wallSeconds.toFixed(0)} s | ${buildPhases(i.build)} | ${show(i.build.peakAnonBytes, 'bytes')} | ${i.checkSeconds.toFixed(0)} s | ${i.differences.toLocaleString('en')}${i.sameSourceAsBuild ? '' : ' (other file)'} | ${r.date}${i.note ? `<br><sub>${i.note}</sub>` : ''} |`,
    ),
  );
  return [
    '## Importing a register file',
    '',
    `\`npm run bench:import -- --scale N\` writes the population of N citizens as NDJSON (\`idv gen\`) and as CSV, builds an index from each file (\`idv build --input\`, CSV parsed by csv-parse on the ingest workers), then re-reads each file against its index (\`idv check\`, which must find no difference). Measured on ${runs[0].machine}.`,
    '',
    '| citizens | format | file | records | build wall | phases | peak anonymous memory | idv check | differences | date |',
    '|---:|---|---:|---:|---:|---|---:|---:|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

function renderScale(r: SuiteResults): string {
  const lines = [
    `## ${r.scale.toLocaleString('en')} citizens`,
    '',
    `Measured ${r.date} on ${r.machine}. Command: \`${r.command}\`. Load: ${r.loadGenerator}; ${r.seconds} s per measurement.`,
    '',
    '| figure | target | measured | |',
    '|---|---|---|---|',
    ...r.figures.map((f) => `| ${f.name}${f.note ? ` <br><sub>${f.note}</sub>` : ''} | ${f.target ? `${f.target.op} ${show(f.target.value, f.unit)}` : ''} | ${show(f.value, f.unit)} | ${f.pass === undefined ? '' : f.pass ? 'met' : '**missed**'} |`),
    '',
  ];
  if (r.build) {
    lines.push(
      `Build (${r.build.records.toLocaleString('en')} records): ${r.build.wallSeconds.toFixed(0)} s wall; ` +
        buildPhases(r.build) +
        `; peak anonymous memory ${show(r.build.peakAnonBytes, 'bytes')}, peak RSS ${show(r.build.peakRssBytes, 'bytes')}; ${r.build.bytesPerCitizen.toFixed(1)} bytes per citizen.`,
      '',
    );
  }
  if (r.micro.length) {
    lines.push('| hot function | ns per call | calls/s |', '|---|---:|---:|', ...r.micro.map((m) => `| ${m.name} | ${m.nsPerOp} | ${m.opsPerSecond.toLocaleString('en')} |`), '');
  }
  return lines.join('\n');
}

/**
 * The bound each throughput target meets in the work alone: the machine's cores divided
 * by the in-process time of a request (plus, for ID checks, the bare uWS ceiling's own
 * cost per request measured by the suite at the same scale).
 */
function renderBudgets(runs: BudgetResults[], suites: SuiteResults[]): string {
  if (!runs.length) return '';
  const rows = runs.flatMap((r) => {
    const machineMicros = r.cores * 1e6;
    const ceiling = suites.find((s) => s.scale === r.scale)?.figures.find((f) => f.key === 'ceiling64')?.value;
    return r.figures.map((f) => {
      const spread = `<br><sub>passes: ${f.passes.map((p) => p.toFixed(1)).join(', ')} µs</sub>`;
      const at = (bound: number, unit: string, target: number, also = '') =>
        `| ${r.scale.toLocaleString('en')} | ${f.name}${spread} | ${f.micros.toFixed(1)} µs | ${show(bound, unit)}${also} | ${show(target, unit)} | ${bound >= target ? 'within reach of the work' : '**beyond this machine**'} | ${r.date} |`;
      if (f.key === 'demographic') {
        // The national-search issue's target: a search's work at most 3 × an ID check's.
        const idCheck = r.figures.find((g) => g.key === 'verify')?.micros;
        const times = idCheck ? `<br>${(f.micros / idCheck).toFixed(1)} × an ID check's work (target ≤ 3 ×: ${met(f.micros <= 3 * idCheck)})` : '';
        return at(machineMicros / f.micros, 'req/s', targetsAt(r.scale, false).demographicPeak.value, times);
      }
      if (f.key === 'batchItem') return at(machineMicros / f.micros, 'items/s', targetsAt(r.scale, false).batchItemsPerSecond.value);
      if (!ceiling) return `| ${r.scale.toLocaleString('en')} | ${f.name}${spread} | ${f.micros.toFixed(1)} µs | no suite run at this scale for the ceiling | | | ${r.date} |`;
      const bound = machineMicros / (machineMicros / ceiling + f.micros);
      const target = targetsAt(r.scale, false).ceilingRatio64.value;
      return at(bound / ceiling, 'ratio', target, ` of a ${Math.round(ceiling).toLocaleString('en')} req/s ceiling (${show(bound, 'req/s')})`);
    });
  });
  return [
    '## What the work itself allows',
    '',
    `\`npm run bench:budget -- --scale N\` times, in one process on the index of N citizens, every step a server thread takes for a request except HTTP: JSON parse, authentication, rate limit, validation, lookup with the record opened, matching, the probing guard, the answer's JSON, metrics, and the audit record rendered, chained and sealed (per item for a batch). The suite's bodies, 20,000 of them, median of 5 passes after a warm-up pass. The bound divides the machine's ${runs[0].cores} cores by that time: what any design could answer here if HTTP, the kernel and the load generator cost nothing. For ID checks the bare uWS ceiling's own cost per request (its 64-connection figure in the suite run of the same scale, which includes the load generator) is added, and the bound is a ratio to that ceiling. Measured on ${runs[0].machine}.`,
    '',
    '| citizens | request | one thread, per request | bound on this machine | target | | date |',
    '|---:|---|---:|---:|---:|---|---|',
    ...rows,
    '',
  ].join('\n');
}

const met = (ok: boolean) => (ok ? 'met' : '**missed**');

/** The live register's targets: idv apply's rate, and what a stream of changes costs verification. */
function renderRegister(runs: RegisterResults[]): string {
  if (!runs.length) return '';
  const rows = runs.flatMap((r) => {
    const alone = median(r.verifyAlone);
    const loaded = median(r.verifyWithChanges);
    const cost = streamCost(r);
    const rate = median(r.changesPerSecond);
    const at = `${r.scale.toLocaleString('en')}`;
    // The machine is shared and noisy: the verdicts are on the median over this run and the earlier ones kept.
    const costs = [cost, ...(r.earlier ?? []).map((e) => e.cost)];
    const medianCost = median(costs);
    const earlier = r.earlier?.length
      ? `<br><sub>earlier runs: ${r.earlier.map((e) => `${(e.cost * 100).toFixed(1)}% (${e.date})`).join(', ')}; median of the ${costs.length} runs ${(medianCost * 100).toFixed(1)}%</sub>`
      : '';
    const applies = [r.apply.changesPerSecond, ...(r.earlier ?? []).map((e) => e.applyPerSecond)];
    const medianApply = median(applies);
    const earlierApplies = r.earlier?.length
      ? `<br><sub>earlier runs: ${r.earlier.map((e) => `${e.applyPerSecond.toLocaleString('en')} (${e.date})`).join(', ')}; median of the ${applies.length} runs ${Math.round(medianApply).toLocaleString('en')} changes/s</sub>`
      : '';
    return [
      `| ${at} | \`idv apply\` of ${r.apply.changes.toLocaleString('en')} changes | >= 20,000 changes/s | ${r.apply.changesPerSecond.toLocaleString('en')} changes/s (${r.apply.seconds} s)${earlierApplies} | ${met(medianApply >= 20_000)} | ${r.date} |`,
      `| ${at} | POST /v1/verify peak (wrk, 64 connections) with ${Math.round(rate).toLocaleString('en')} changes/s sent meanwhile, against alone<br><sub>rounds alone ${r.verifyAlone.map(Math.round).join(', ')}; with changes ${r.verifyWithChanges.map(Math.round).join(', ')} req/s; each round's loss ${r.verifyWithChanges.map((w, i) => `${((1 - w / r.verifyAlone[i]) * 100).toFixed(1)}%`).join(', ')}</sub> | cost <= 15% | median of the rounds' losses ${(cost * 100).toFixed(1)}% (medians ${Math.round(loaded).toLocaleString('en')} against ${Math.round(alone).toLocaleString('en')} req/s)${earlier} | ${met(medianCost <= 0.15 && rate >= 1900)} | ${r.date} |`,
      `| ${at} | change sent to seen by a verification<br><sub>${r.visibleSamples} batches probed; p50 ${r.visibleP50Ms.toFixed(1)} ms</sub> | p99 <= 1 s | p99 ${r.visibleP99Ms.toFixed(1)} ms | ${met(r.visibleP99Ms <= 1000)} | ${r.date} |`,
      ...(r.afterBulk
        ? [`| ${at} | the same, in the first round right after the bulk apply (not in the medians above)<br><sub>verify ${Math.round(r.afterBulk.verifyAlone).toLocaleString('en')} req/s alone, ${Math.round(r.afterBulk.verifyWithChanges).toLocaleString('en')} with changes</sub> | p99 <= 1 s | p99 ${r.afterBulk.visibleP99Ms.toFixed(1)} ms | ${met(r.afterBulk.visibleP99Ms <= 1000)} | ${r.date} |`]
        : []),
    ];
  });
  return [
    '## The live register',
    '',
    `\`npm run bench:register -- --scale N\` copies the bench index of N citizens, applies a file of changes to it with \`idv apply\` (reissued and revoked cards, deaths, renames, whole records), then serves it and measures /v1/verify at its peak alone and while a stream of changes arrives (batches of 100 revoked cards, at a fixed rate), in interleaved rounds. Each round with changes is compared with the round alone just before it, and the cost is the median of those losses: the machine's speed drifts within a run, and medians of rounds minutes apart count the drift as cost. The first round, right after the bulk apply, is reported on its own: LMDB then reuses the pages the bulk apply freed, and commits are slower for a while. After each batch is acknowledged, a verification of one of its citizens is repeated until it shows the change: the delay from sending to seen. The stream's client and the probes run on the same 2 cores as wrk and the server, so their own CPU counts against verify: they post over kept-alive node:http connections (fetch, used before, took 0.07 of a core for the stream at 10M against 0.03). The verdicts on the apply rate and on the cost are the medians of this run and up to 4 earlier runs measured the same way. Measured on ${runs[0].machine}.`,
    '',
    '| citizens | what | target | measured | | date |',
    '|---:|---|---:|---:|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** A figure that may be missing (a minute with no change probed). */
const ms = (value: number | null) => (value === null || !Number.isFinite(value) ? '–' : `${value.toFixed(value < 100 ? 2 : 0)} ms`);

/** The soak, minute by minute: memory and latency must stay flat. */
function renderSoak(runs: SoakResults[]): string {
  if (!runs.length) return '';
  return runs
    .map((r) =>
      [
        `## Soak: ${r.minutes.length} minutes at ${r.scale.toLocaleString('en')} citizens`,
        '',
        `\`${r.command}\`, ${r.date}, on ${r.machine}: ID checks at ${r.rates.verify.toLocaleString('en')}/s and searches at ${r.rates.demographic.toLocaleString('en')}/s offered (open loop, latency at the client from when each was due), and ${r.rates.changes.toLocaleString('en')} changes/s (revoked cards, batches of 100) throughout. Each minute: the server's resident memory, its own (anonymous: a leak would show there) and the index file's pages it has touched through the map (they grow until the whole file has been read), the latencies of that minute, and the delay from a change sent to seen by a verification.`,
        '',
        '| minute | RSS: anonymous + file | ID check p50 / p99 | search p50 / p99 | not answered 200 | changes | change to seen, p99 |',
        '|---:|---:|---:|---:|---:|---:|---:|',
        ...r.minutes.map(
          (m) =>
            `| ${m.minute} | ${(m.anonBytes / 2 ** 20).toFixed(0)} + ${(m.fileBytes / 2 ** 20).toFixed(0)} MiB | ${ms(m.verify.p50Ms)} / ${ms(m.verify.p99Ms)} | ${ms(m.demographic.p50Ms)} / ${ms(m.demographic.p99Ms)} | ${m.verify.refused + m.demographic.refused} | ${m.changes.toLocaleString('en')} | ${ms(m.visibleP99Ms)} |`,
        ),
        '',
      ].join('\n'),
    )
    .join('\n');
}

/** One client's flood against another's single checks: the other's latency, and how much of the flood was shed. */
function renderFairness(runs: FairnessResults[]): string {
  if (!runs.length) return '';
  const rows = runs.map((r) => {
    const rounds = r.rounds;
    // A figure is null when none of a round's requests was answered.
    const each = (f: (x: FairnessResults['rounds'][number]) => number | null, unit: string) => rounds.map((x) => { const v = f(x); return v === null ? 'none answered' : `${v.toFixed(1)}${unit}`; }).join(', ');
    const refused = rounds.reduce((s, x) => s + x.flooded.notOk, 0);
    const sent = rounds.reduce((s, x) => s + x.flooded.sent, 0);
    const shed = median(rounds.map((x) => x.flood.refused / x.flood.requests));
    // Saved as null when none was answered: slower than any answer.
    const m = (f: (x: FairnessResults['rounds'][number]) => number | null) => median(rounds.map((x) => f(x) ?? Infinity));
    return [
      `| ${r.scale.toLocaleString('en')} | ${ms(m((x) => x.quiet.p50Ms))} / ${ms(m((x) => x.quiet.p99Ms))} | ${ms(m((x) => x.flooded.p50Ms))} / ${ms(m((x) => x.flooded.p99Ms))}<br><sub>rounds' p99: ${each((x) => x.flooded.p99Ms, ' ms')}</sub>`,
      `${refused} of ${sent}`,
      `${(shed * 100).toFixed(1)}%<br><sub>rounds: ${each((x) => (100 * x.flood.refused) / x.flood.requests, '%')}; requests answered ${rounds.map((x) => x.flood.requests).join(', ')}</sub>`,
      `${show(median(rounds.map((x) => x.flood.itemsPerSecond)), 'items/s')}`,
      `${met(m((x) => x.flooded.p99Ms) <= 100 && refused === 0 && shed > 0)} | ${r.date} |`,
    ].join(' | ');
  });
  return [
    '## Fairness under one client\'s flood',
    '',
    `\`npm run bench:fairness -- --scale N\`: one client floods 1,000-item search batches (wrk, ${runs[0].connections} connections, no rate limit of its own: a large client's allowance) while another sends single ID checks at ${runs[0].otherRate}/s (open loop, latency from when each was due). Each round measures the other client alone, then during the flood; ${runs[0].rounds.length} rounds of ${runs[0].seconds} s, medians. Target: the other client's p99 at most 100 ms with none refused, and the flood shed. Measured on ${runs[0].machine}.`,
    '',
    '| citizens | other client alone: p50 / p99 | during the flood: p50 / p99 | other client not answered 200 | flood refused (429/503) | flood items answered | | date |',
    '|---:|---:|---:|---:|---:|---:|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function renderRuntimes(runs: RuntimesResults[]): string {
  if (!runs.length) return '';
  const rows = runs.flatMap((r) =>
    r.runtimes.map((f) => {
      const ratios = f.verify.map((v, i) => v / f.ceiling[i]);
      const each = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
      return [
        `| ${r.scale.toLocaleString('en')} | Node ${f.node} + uWS ${f.uws}<br><sub>${f.where}</sub>`,
        `${show(median(f.ceiling), 'req/s')}<br><sub>${each(f.ceiling)}</sub>`,
        `${show(median(f.verify), 'req/s')}<br><sub>${each(f.verify)}</sub>`,
        `${median(ratios).toFixed(2)}`,
        `${median(f.verifyP99Ms).toFixed(1)} ms`,
        `${show(median(f.demographic), 'req/s')}<br><sub>${each(f.demographic)}</sub>`,
        `${median(f.demographicP99Ms).toFixed(1)} ms`,
        `${show(median(f.batchItems), 'items/s')} | ${r.date} |`,
      ].join(' | ');
    }),
  );
  const r = runs[0];
  return [
    '## Runtimes: Node 24 + uWebSockets.js 20.57 against Node 20 + uWebSockets.js 20.30',
    '',
    `\`npm run bench:runtimes -- --scale N\`: the same index served by each runtime in turn, in ${r.rounds} interleaved rounds (each round starts with the other one), each beside the bare uWS ceiling of its own runtime measured in the same round; wrk -t1 on this machine, ${r.connections} connections (batches: 4), ${r.seconds} s a figure; medians, and each round's figure below. Node 20 runs on this machine's Debian 12 (glibc 2.36); Node 24 in a Debian 13 root (glibc 2.41) on the same kernel and disk. Measured on ${r.machine}.`,
    '',
    '| citizens | runtime | ceiling | POST /v1/verify | of the ceiling | verify p99 | POST /v1/verify/demographic | search p99 | batch | date |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

/** The replication issue's targets: change to visible, catch-up, snapshot, failover, and the shared limits' cost. */
function renderReplication(runs: ReplicationResults[]): string {
  if (!runs.length) return '';
  const rows = runs.flatMap((r) => {
    const scale = r.scale.toLocaleString('en');
    const shared = r.sharedLimits;
    return [
      `| ${scale} | change committed on the primary to visible on a replica, at ${r.visible.rate.toLocaleString('en')} changes/s offered (${r.visible.offered.toLocaleString('en')} acknowledged, ${r.visible.seconds} s, ${r.visible.batches} batches) | p99 ${r.visible.p99Ms} ms (p50 ${r.visible.p50Ms}, max ${r.visible.maxMs}) | p99 ≤ 1 s | ${met(r.visible.p99Ms <= 1000)} | ${r.date} |`,
      `| ${scale} | a replica catching up (${r.catchUp.changes.toLocaleString('en')} changes applied while it was stopped, ${r.catchUpBirths ? "the register's everyday mix (bench:register's)" : 'births'}; from its start) | ${r.catchUp.perSecond.toLocaleString('en')} changes/s (${r.catchUp.seconds} s) | ≥ 20,000 changes/s | ${met(r.catchUp.perSecond >= 20_000)} | ${r.date} |`,
      ...(r.catchUpBirths ? [`| ${scale} | the same, births alone (each a new record and new lookups) | ${r.catchUpBirths.perSecond.toLocaleString('en')} changes/s (${r.catchUpBirths.seconds} s) | | | ${r.date} |`] : []),
      `| ${scale} | a snapshot of the served build, taken while it serves (${r.snapshot.whileServing}) | ${r.snapshot.seconds} s, ${(r.snapshot.bytes / 1024 ** 3).toFixed(2)} GiB | minutes | ${met(r.snapshot.seconds < 1800)} | ${r.date} |`,
      `| ${scale} | failover: the primary killed (SIGKILL) to the first batch the promoted replica accepts | ${r.failover.seconds} s | seconds | ${met(r.failover.seconds < 60)} | ${r.date} |`,
      `| ${scale} | POST /v1/verify at 64 connections with the limits shared (--nats) beside the same instance alone, ${shared.rounds} interleaved rounds | ${show(median(shared.shared), 'req/s')} against ${show(median(shared.alone), 'req/s')}: ${shared.ratio.toFixed(2)} (ceiling ${show(median(shared.ceiling), 'req/s')})<br><sub>shared ${shared.shared.map((v) => v.toFixed(0)).join(', ')}; alone ${shared.alone.map((v) => v.toFixed(0)).join(', ')}${shared.cpuMsPer1000 ? `; CPU per 1,000 answers ${median(shared.cpuMsPer1000.shared)} ms shared, ${median(shared.cpuMsPer1000.alone)} ms alone; ${median(shared.limitCallsPer1000!)} calls to the limits per 1,000` : ''}</sub> | cost ≤ 10% (≥ 0.90) | ${met(shared.ratio >= 0.9)} | ${r.date} |`,
    ];
  });
  const r = runs[0];
  return [
    '## Replication: a primary and replicas over NATS JetStream',
    '',
    `\`npm run bench:replication -- --scale N\`: Debian's nats-server (JetStream, file storage) and every instance on this machine (${r.machine}, Node ${r.node}, ${r.cores} cores shared by all of them and the load). The primary serves a copy of the bench index; the replica is seeded by \`idv snapshot\` of it while it serves. Changes are births posted in batches of 100 (open loop); "visible" is the first moment the replica's own change log (GET /v1/changes) holds a batch's last change, against the moment the primary acknowledged it.`,
    '',
    '| citizens | what | measured | target | | date |',
    '|---:|---|---:|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** The national-search issue's targets against the Fastify + PostgreSQL baseline, in one run. */
function renderPeer(runs: PeerResults[]): string {
  if (!runs.length) return '';
  const each = (values: number[] = [], digits = 0) => values.map((v) => v.toFixed(digits)).join(', ');
  const rows = runs.flatMap((r) =>
    r.runs.map((run) => {
      // wrk counts every response: a search shed (503) is taken out, so only answers count.
      const answered = (name: string) => (run.rps[name] ?? []).map((rps, i) => rps - (run.non2xx[name]?.[i] ?? 0) / r.seconds);
      run = { ...run, rps: { ...run.rps, 'idv-demographic': answered('idv-demographic'), 'peer-demographic': answered('peer-demographic') } };
      const [idv, peer] = [median(run.rps['idv-demographic'] ?? []), median(run.rps['peer-demographic'] ?? [])];
      const [idvP99, peerP99] = [median(run.p99Ms['idv-demographic'] ?? []), median(run.p99Ms['peer-demographic'] ?? [])];
      const ratio = idv / peer;
      const verify = median(run.rps['idv-verify'] ?? []);
      const ceiling = median(run.rps.ceiling ?? []);
      const non2xx = Object.values(run.non2xx).flat().reduce((a, b) => a + b, 0);
      const shed = (run.non2xx['idv-demographic'] ?? []).reduce((a, b) => a + b, 0);
      // A p99 of answers with many shed is not this service's p99 at the baseline's load.
      const p99Target = r.scale >= 98_000_000 && run.connections === 64 && shed === 0;
      return [
        `| ${r.scale.toLocaleString('en')} | ${run.connections}`,
        `${show(idv, 'req/s')}<br><sub>${each(run.rps['idv-demographic'])}</sub>`,
        `${show(peer, 'req/s')}<br><sub>${each(run.rps['peer-demographic'])}</sub>`,
        `**${ratio.toFixed(2)}** (≥ 1.5: ${met(ratio >= 1.5)})`,
        `${idvP99.toFixed(1)} ms against ${peerP99.toFixed(1)} ms${p99Target ? ` (≤: ${met(idvP99 <= peerP99)})` : ''}<br><sub>${each(run.p99Ms['idv-demographic'], 1)}; ${each(run.p99Ms['peer-demographic'], 1)}</sub>`,
        `${show(verify, 'req/s')}, ${(verify / ceiling).toFixed(2)} of the ceiling ${show(ceiling, 'req/s')}; baseline ${show(median(run.rps['peer-verify'] ?? []), 'req/s')}`,
        `${non2xx}${shed ? ` (${shed} searches shed, 503)` : ''} | ${r.date} |`,
      ].join(' | ');
    }),
  );
  const r = runs[0];
  return [
    '## National search beside a plain database: Fastify 5 + PostgreSQL 15',
    '',
    `\`npm run bench:peer -- --scale N\`: ../shared/peer's side-by-side.sh on the same people (the bench index, and \`idv gen\` of its seed loaded into PostgreSQL by the baseline's load.mjs) and the same request bodies (its sample-bodies.py: searches 90% as registered, 10% without diacritics; verifications 80% exact). Searches a second count answers only (wrk's rate less the non-2xx ones: searches shed with 503 when they would wait too long). Each round runs wrk -t1 for ${r.seconds} s on the bare uWS ceiling, this service's verify, the baseline's, this service's search, the baseline's; ${r.rounds} interleaved rounds, medians, each round below. The baseline looks up the exact folded name and date in a btree; this service searches as documented (every pair of the name's words, the date as registered, slips and near names). Measured on ${r.machine}, Node ${r.node}; wrk, both services and PostgreSQL share its cores.`,
    '',
    '| citizens | connections | search (this service) | search (baseline) | ratio | search p99 | POST /v1/verify | non-2xx | date |',
    '|---:|---:|---:|---:|---|---|---|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

export function renderAll(): string {
  const all = savedRuns<SuiteResults>('scale');
  return [
    '# Benchmark results',
    '',
    'Generated by the bench suite: `npm run bench` (1,000,000 citizens), `npm run bench:national` (98,000,000), and `npm run bench:import` (importing a register file); each run rewrites its own scale from bench/results/. Targets are those of the national-scale and performance issues (bench/targets.ts); the ceiling and the verify figure of each concurrency are measured one after the other in the same run. Where the time goes, and what was measured once to decide the design: [ANALYSIS.md](ANALYSIS.md).',
    '',
    ...all.map(renderScale),
    renderBudgets(savedRuns<BudgetResults>('budget'), all),
    renderRegister(savedRuns<RegisterResults>('register')),
    renderSoak(savedRuns<SoakResults>('soak')),
    renderFairness(savedRuns<FairnessResults>('fairness')),
    renderRuntimes(savedRuns<RuntimesResults>('runtimes')),
    renderReplication(savedRuns<ReplicationResults>('replication')),
    renderPeer(savedRuns<PeerResults>('peer')),
    renderImports(savedRuns<ImportResults>('import')),
  ].join('\n');
}
