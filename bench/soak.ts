import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { Random } from '../src/synth/random.js';
import { benchIndex, BENCH_KEY } from './benchIndex.js';
import { machine, today, runScript } from './machine.js';
import { fullDateWithin } from './matching/pairs.js';
import { openLoop } from './openloop.js';
import { changeStream, percentile, registerCopy } from './registerLoad.js';
import { saveRun, writeReport } from './report.js';
import { startServerProcess } from './server.js';

/**
 * The soak: 30 minutes of mixed load at a steady rate (ID checks and searches, open loop)
 * with a steady stream of changes, on a copy of the bench index. Every minute: the
 * server's resident memory, p50 and p99 of each kind of request answered in that minute
 * (client side, from when each was due), and the delay from a change sent to seen.
 * Not in CI.
 *   npm run soak -- --scale 10000000 --minutes 30
 */
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '10000000' },
    minutes: { type: 'string', default: '30' },
    verify: { type: 'string', default: '8000' },
    demographic: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '200' },
  },
});
const scale = Number(args.scale);
const minutes = Number(args.minutes);
const verifyRate = Number(args.verify);
const searchRate = Number(args.demographic);
const changeRate = Number(args.changes);

/** One kind of request in one minute: `refused` counts every answer but 200, by status in `statuses`, and `unanswered` what got none. */
interface Minute {
  answered: number;
  p50Ms: number;
  p99Ms: number;
  refused: number;
  statuses?: Record<string, number>;
  unanswered?: number;
}

export interface SoakMinute {
  minute: number;
  rssBytes: number;
  /** The heap and other memory of the process's own (RssAnon): a leak shows here. */
  anonBytes: number;
  /** Pages of the index file it has touched through the map (RssFile): they grow until the whole file has been read. */
  fileBytes: number;
  verify: Minute;
  demographic: Minute;
  visibleP99Ms: number;
  changes: number;
}

export interface SoakResults {
  date: string;
  machine: string;
  scale: number;
  command: string;
  rates: { verify: number; demographic: number; changes: number };
  minutes: SoakMinute[];
}

const memory = (pid: number, field: 'VmRSS' | 'RssAnon' | 'RssFile') => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

async function main(): Promise<void> {
  const bench = await benchIndex(scale);
  const { dir, clients, remove } = registerCopy(bench.dir, scale);
  const server = await startServerProcess(['--index', dir, '--clients', clients]);
  try {
    await server.warm;
    const reader = IndexReader.open(dir, Secret.load(defaultSecretPath(dir)));
    const random = new Random(23);
    const people = reader.sample(20_000 + changeRate * 66 * minutes, () => random.next());
    void reader.close();
    const verify = people.slice(0, 10_000).map((p) => JSON.stringify({ idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random) }));
    const search = people.slice(10_000, 20_000).map((p) => JSON.stringify({ fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random) }));

    let visible: number[] = [];
    let changed = 0;
    // Scheduled with a margin (each minute's load takes a little over 60 s) and stopped with the last minute.
    let done = false;
    const stream = changeStream(
      server.url,
      people.slice(20_000),
      0,
      random,
      changeRate,
      minutes * 66,
      (ms) => {
        visible.push(ms);
        changed += 100;
      },
      () => done,
    );
    const results: SoakMinute[] = [];
    for (let minute = 1; minute <= minutes; minute++) {
      const [v, d] = await Promise.all([
        openLoop({ url: server.url, path: '/v1/verify', key: BENCH_KEY, bodies: verify, rate: verifyRate, seconds: 60, connections: 128 }),
        openLoop({ url: server.url, path: '/v1/verify/demographic', key: BENCH_KEY, bodies: search, rate: searchRate, seconds: 60, connections: 64 }),
      ]);
      const of = (r: typeof v): Minute => ({
        answered: r.statuses.get(200) ?? 0,
        p50Ms: percentile(r.latenciesMs, 0.5),
        p99Ms: r.okP99Ms,
        refused: r.total - (r.statuses.get(200) ?? 0),
        statuses: Object.fromEntries([...r.statuses].filter(([status]) => status !== 200)),
        unanswered: r.errors,
      });
      const pid = server.child.pid!;
      results.push({ minute, rssBytes: memory(pid, 'VmRSS'), anonBytes: memory(pid, 'RssAnon'), fileBytes: memory(pid, 'RssFile'), verify: of(v), demographic: of(d), visibleP99Ms: visible.length ? percentile(visible, 0.99) : NaN, changes: changed });
      const m = results.at(-1)!;
      process.stderr.write(`minute ${minute}: RSS ${(m.rssBytes / 2 ** 20).toFixed(0)} MiB (anonymous ${(m.anonBytes / 2 ** 20).toFixed(0)}, index file ${(m.fileBytes / 2 ** 20).toFixed(0)}); verify p50 ${m.verify.p50Ms.toFixed(2)} p99 ${m.verify.p99Ms.toFixed(2)} ms; search p50 ${m.demographic.p50Ms.toFixed(2)} p99 ${m.demographic.p99Ms.toFixed(2)} ms; ${m.changes} changes, visible p99 ${m.visibleP99Ms.toFixed(0)} ms; not 200: ${JSON.stringify({ verify: m.verify.statuses, search: m.demographic.statuses, unanswered: (m.verify.unanswered ?? 0) + (m.demographic.unanswered ?? 0) })}\n`);
      visible = [];
      changed = 0;
    }
    done = true;
    await stream;
    const soak: SoakResults = { date: today(), machine: machine(), scale, command: `npm run soak -- --scale ${scale} --minutes ${minutes}`, rates: { verify: verifyRate, demographic: searchRate, changes: changeRate }, minutes: results };
    saveRun('soak', soak);
    writeReport();
  } finally {
    await server.stop();
    remove();
  }
}

runScript('bench/soak.js', main);
