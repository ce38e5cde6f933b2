import { connect, type Socket } from 'node:net';
import type { LoadResult } from './load.js';

/**
 * An open-loop load generator: requests fall due on a fixed schedule (rate × elapsed
 * time, checked every millisecond), whether or not earlier ones were answered. A due
 * request goes out on an idle keep-alive connection, or waits for one, as in a client's
 * connection pool (no pipelining, which banks' HTTP clients do not use). Latency runs
 * from the scheduled time, so waiting for a connection counts and a stalled server shows
 * its full delay (no coordinated omission). autocannon's fixed-rate mode sends in bursts
 * per connection, which measures the bursts more than the server.
 */
interface Conn {
  socket: Socket;
  scheduled: number; // when the request in flight on it was due; NaN when idle
  sent: number; // when it was written to the socket
  buffer: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export async function openLoop(opts: { url: string; path: string; key: string; bodies: string[]; rate: number; seconds: number; connections?: number }): Promise<LoadResult & { latenciesMs: number[]; statuses: Map<number, number>; retryAfter: number; deliveredPerSecond: number; okP99Ms: number; okSentP99Ms: number }> {
  const { hostname, port } = new URL(opts.url);
  const requests = opts.bodies.map((body) =>
    Buffer.from(`POST ${opts.path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${opts.key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
  );
  const latencies: number[] = [];
  // Answered 200: from when it was due (what a client with this pool of connections waits), and from when it was written (what the server and the network took).
  const okLatencies: number[] = [];
  const okSent: number[] = [];
  const statuses = new Map<number, number>();
  let retryAfter = 0;
  let errors = 0;

  const waiting: number[] = []; // due times of requests with no idle connection yet
  const idle: Conn[] = [];
  let sent = 0;
  const send = (conn: Conn, due: number) => {
    conn.scheduled = due;
    conn.sent = performance.now();
    conn.socket.write(requests[sent++ % requests.length]);
  };

  const onData = (conn: Conn, chunk: Buffer) => {
    conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : chunk;
    const end = conn.buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = conn.buffer.subarray(0, end).toString('latin1');
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (conn.buffer.length < end + 4 + length) return;
    conn.buffer = Buffer.alloc(0);
    const status = Number(head.slice(9, 12));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status === 503 && /retry-after:/i.test(head)) retryAfter++;
    const now = performance.now();
    latencies.push(now - conn.scheduled);
    if (status === 200) {
      okLatencies.push(now - conn.scheduled);
      okSent.push(now - conn.sent);
    }
    conn.scheduled = NaN;
    if (waiting.length) send(conn, waiting.shift()!);
    else idle.push(conn);
  };

  const conns: Conn[] = await Promise.all(
    Array.from({ length: opts.connections ?? 256 }, () =>
      new Promise<Conn>((resolve, reject) => {
        const socket = connect(Number(port), hostname);
        socket.setNoDelay(true);
        const conn: Conn = { socket, scheduled: NaN, sent: NaN, buffer: Buffer.alloc(0) };
        socket.once('connect', () => resolve(conn));
        socket.once('error', reject);
        socket.on('data', (chunk) => onData(conn, chunk));
      }),
    ),
  );
  for (const c of conns) {
    c.socket.on('error', () => errors++);
    // A connection the server closed is not used again; a request it carried is lost (an error).
    c.socket.on('close', () => {
      const at = idle.indexOf(c);
      if (at >= 0) idle.splice(at, 1);
      if (!Number.isNaN(c.scheduled)) {
        errors++;
        c.scheduled = NaN;
      }
    });
  }
  idle.push(...conns);

  // What reached the server while the schedule ran, as opposed to what fell due: a generator short of connections or CPU delivers less.
  let sentInTime = 0;
  const start = performance.now();
  const stopAt = start + opts.seconds * 1000;
  const total = Math.round(opts.seconds * opts.rate);
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Request k falls due at k / rate: the first at the start.
      const due = now >= stopAt ? total : Math.min(Math.floor(((now - start) / 1000) * opts.rate) + 1, total);
      for (; scheduled < due; scheduled++) {
        const at = start + (scheduled / opts.rate) * 1000;
        // The longest idle first: every connection stays in use, and none reaches the server's idle timeout (uWS closes a connection idle for 10 s).
        const conn = idle.shift();
        if (conn) send(conn, at);
        else waiting.push(at);
      }
      if (now < stopAt) setTimeout(tick, 1);
      else {
        sentInTime = sent;
        resolve();
      }
    };
    tick();
  });
  // Answers still owed get two seconds to arrive; what never arrives counts as an error.
  const drainUntil = performance.now() + 2000;
  while (performance.now() < drainUntil && (waiting.length || conns.some((c) => !Number.isNaN(c.scheduled)))) await new Promise((r) => setTimeout(r, 5));
  errors += waiting.length;
  for (const c of conns) {
    if (!Number.isNaN(c.scheduled)) errors++;
    c.scheduled = NaN;
    c.socket.destroy();
  }
  const quantile = (values: number[], p: number) => {
    const sorted = Float64Array.from(values).sort();
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
  };
  const q = (p: number) => quantile(latencies, p);
  const ok = statuses.get(200) ?? 0;
  return {
    requestsPerSecond: scheduled / opts.seconds,
    total: scheduled,
    p50: q(0.5),
    p97_5: q(0.975),
    p99: q(0.99),
    errors,
    non2xx: latencies.length - ok,
    latenciesMs: latencies,
    statuses,
    retryAfter,
    deliveredPerSecond: sentInTime / opts.seconds,
    okP99Ms: quantile(okLatencies, 0.99),
    okSentP99Ms: quantile(okSent, 0.99),
  };
}
