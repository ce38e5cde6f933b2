import { readFileSync } from 'node:fs';

/** Reads the server's own latency histogram: finer than autocannon's whole milliseconds. */
export type Buckets = Map<number, number>;

function labels(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/** Cumulative bucket counts of idv_http_request_duration_seconds for a route and status class. */
export async function durationBuckets(url: string, route: string, statusClass = '2xx'): Promise<Buckets> {
  const text = await (await fetch(url + '/metrics')).text();
  const buckets: Buckets = new Map();
  for (const m of text.matchAll(/^idv_http_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
    const l = labels(m[1]);
    if (l.route !== route || l.status_class !== statusClass) continue;
    buckets.set(l.le === '+Inf' ? Infinity : Number(l.le), Number(m[2]));
  }
  return buckets;
}

/** The q-quantile (seconds) of the requests observed between two scrapes, interpolated as Prometheus does. */
export function quantileBetween(before: Buckets, after: Buckets, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i] >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : counts[i - 1];
      if (bounds[i] === Infinity) return lower;
      return lower + ((bounds[i] - lower) * (rank - below)) / Math.max(counts[i] - below, 1);
    }
  }
  return NaN;
}

/** Anonymous resident memory of a process (bytes), from /proc. */
export function anonMemory(pid: number): number {
  try {
    return Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** The sum of a metric's series (those whose labels include `match`), as the server exports it now. */
export async function metricSum(url: string, name: string, match: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const l = labels(m[1] ?? '');
    if (Object.entries(match).every(([k, v]) => l[k] === v)) sum += Number(m[2]);
  }
  return sum;
}
