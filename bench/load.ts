import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  p50: number;
  p97_5: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/**
 * Load on one endpoint with autocannon; each request takes the next body from the pool.
 * Closed loop, or about `rate` requests per second in all when given (fixed-rate mode).
 */
export async function load(opts: { url: string; path: string; key: string; bodies: string[]; connections: number; seconds: number; rate?: number }): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: opts.url + opts.path,
    connections: opts.connections,
    duration: opts.seconds,
    overallRate: opts.rate,
    requests: [
      {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: opts.bodies[next++ % opts.bodies.length] }),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
