import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { glibcVersion, runtimeStatus } from '../runtime.js';
import { uwsBuild } from '../http/uws.js';
import { ERRORS } from '../errors.js';

/**
 * Prometheus metrics. Labels are routes, status codes, error codes and results:
 * a handful of values each, never a client key or anything about a citizen.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'idv_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'idv_http_request_duration_seconds',
    help: 'Time from request to response, by route and status class (2xx, 4xx, 5xx)',
    labelNames: ['route', 'status_class'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly errors = new Counter({ name: 'idv_errors_total', help: 'Error responses by catalogue code', labelNames: ['code'], registers: [this.registry] });
  readonly results = new Counter({ name: 'idv_verification_results_total', help: 'Verification outcomes by kind and result', labelNames: ['kind', 'result'], registers: [this.registry] });
  /** Read at scrape time from the dispatcher, so the request path does not pay for it. */
  inFlightSource: () => number = () => 0;
  readonly inFlight: Gauge = new Gauge({
    name: 'idv_inflight_items',
    help: 'Verification items admitted and not yet answered',
    registers: [this.registry],
    collect: (): void => this.inFlight.set(this.inFlightSource()),
  });
  /** Read at scrape time from the live count (LiveState), the one every thread answers /readyz from. */
  recordsSource: () => number = () => 0;
  // Every thread reads the same shared count: the first is kept. Ready only when every thread is.
  readonly indexRecords: Gauge = new Gauge({
    name: 'idv_index_records',
    help: 'Citizens in the open index',
    registers: [this.registry],
    aggregator: 'first',
    collect: (): void => this.indexRecords.set(this.recordsSource()),
  });
  readonly runtimeInfo = new Gauge({ name: 'idv_runtime_info', help: 'Always 1: the Node release, the uWebSockets.js build and the glibc the service runs on, in its labels', labelNames: ['node', 'uws', 'glibc'], registers: [this.registry], aggregator: 'max' });
  readonly runtimeEndOfLife = new Gauge({ name: 'idv_runtime_end_of_life', help: '1 when the Node release the service runs on is past its end of life (no security fixes)', registers: [this.registry], aggregator: 'max' });
  readonly ready = new Gauge({ name: 'idv_ready', help: '1 when the index is open and requests are served', registers: [this.registry], aggregator: 'min' });
  readonly auditRecords = new Counter({ name: 'idv_audit_records_total', help: 'Audit records written and synced', registers: [this.registry] });
  readonly registerBatches = new Counter({ name: 'idv_register_batches_total', help: 'Batches of register changes by outcome (applied, replayed, refused)', labelNames: ['outcome'], registers: [this.registry] });
  readonly registerChanges = new Counter({ name: 'idv_register_changes_total', help: 'Register changes applied', registers: [this.registry] });
  readonly registerSequence = new Gauge({ name: 'idv_register_last_sequence', help: 'Sequence number of the last change applied (0: none since the build)', registers: [this.registry], aggregator: 'max' });
  readonly replicationRole = new Gauge({ name: 'idv_replication_role', help: '1 for the role this instance has: standalone (no change stream), primary or replica', labelNames: ['role'], registers: [this.registry], aggregator: 'max' });
  /** The change stream's and the shared limits' series: only on an instance that has them (--nats), so none reads 0 where there is no stream. */
  replication?: ReplicationMetrics;

  enableReplication(): ReplicationMetrics {
    return (this.replication ??= new ReplicationMetrics(this.registry));
  }

  // Per client: ids are few and named by the operator (the clients file), never a key or a citizen.
  readonly clientRequests = new Counter({ name: 'idv_client_requests_total', help: 'Authenticated requests by client id', labelNames: ['client'], registers: [this.registry] });
  readonly clientRefusals = new Counter({ name: 'idv_client_refusals_total', help: 'Requests of an authenticated client answered with an error, by client id and code', labelNames: ['client', 'code'], registers: [this.registry] });
  // Every server thread reads the same shared counts: one value, not their sum.
  private quotas: () => { client: string; ratio: number }[] = () => [];
  readonly clientQuotaUsed: Gauge = new Gauge({
    name: 'idv_client_quota_used_ratio',
    help: "Share of the client's daily quota used today (UTC), by client id",
    labelNames: ['client'],
    registers: [this.registry],
    aggregator: 'max',
    collect: () => {
      this.clientQuotaUsed.reset();
      for (const { client, ratio } of this.quotas()) this.clientQuotaUsed.set({ client }, ratio);
    },
  });
  readonly auditErrors = new Counter({ name: 'idv_audit_write_errors_total', help: 'Failed writes of the audit trail (records are kept and written again)', registers: [this.registry] });

  // Label children are kept by key: prom-client hashes the label object on every call otherwise.
  /** One HTTP answer: the request counter and the latency histogram. */
  recordAnswer(route: string, status: number, seconds: number): void {
    const key = `${route} ${status}`;
    let pair = this.answerChildren.get(key);
    if (!pair) {
      pair = [this.requests.labels(route, String(status)), this.duration.labels(route, `${Math.floor(status / 100)}xx`)];
      this.answerChildren.set(key, pair);
    }
    pair[0].inc();
    pair[1].observe(seconds);
  }
  private readonly answerChildren = new Map<string, [{ inc(): void }, { observe(v: number): void }]>();

  recordClientRequest(client: string): void {
    let child = this.clientRequestChildren.get(client);
    if (!child) this.clientRequestChildren.set(client, (child = this.clientRequests.labels(client)));
    child.inc();
  }
  private readonly clientRequestChildren = new Map<string, { inc(): void }>();

  recordClientRefusal(client: string, code: string): void {
    this.clientRefusals.inc({ client, code });
  }

  /** Reads each client's share of its quota at every scrape. */
  followQuotas(read: () => { client: string; ratio: number }[]): void {
    this.quotas = read;
  }

  recordResult(kind: string, result: string): void {
    const key = `${kind} ${result}`;
    let child = this.resultChildren.get(key);
    if (!child) this.resultChildren.set(key, (child = this.results.labels(kind, result)));
    child.inc();
  }
  private readonly resultChildren = new Map<string, { inc(): void }>();

  /** `process`: the process's own series (CPU, memory, event loop); once per process, on the main thread. */
  constructor({ process = true }: { process?: boolean } = {}) {
    if (process) collectDefaultMetrics({ register: this.registry, prefix: 'idv_' });
    this.runtimeInfo.set({ node: globalThis.process.versions.node, uws: uwsBuild.version, glibc: glibcVersion() ?? 'none' }, 1);
    this.runtimeEndOfLife.set(runtimeStatus().pastEndOfLife ? 1 : 0);
    // Every series exists from the start at 0, so rate() and alerts see the first event.
    for (const code of Object.keys(ERRORS)) this.errors.inc({ code }, 0);
    for (const result of ['match', 'partial', 'mismatch', 'not_found']) this.results.inc({ kind: 'id', result }, 0);
    for (const result of ['unique', 'ambiguous', 'none']) this.results.inc({ kind: 'demographic', result }, 0);
    for (const outcome of ['applied', 'replayed', 'refused']) this.registerBatches.inc({ outcome }, 0);
  }
}

/** Set on the main thread from the register's status a few times a second (replication.ts), and by the shared limits (sharedLimits.ts). */
export class ReplicationMetrics {
  readonly connected: Gauge;
  readonly lagChanges: Gauge;
  readonly lagSeconds: Gauge;
  readonly backlog: Gauge;
  readonly epoch: Gauge;
  readonly unready: Gauge;
  readonly limitCalls: Counter;

  constructor(registry: Registry) {
    const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry], aggregator: 'max' });
    this.connected = gauge('idv_replication_connected', '1 while NATS is reachable from the register (primary and replicas)');
    this.lagChanges = gauge('idv_replication_lag_changes', 'A replica: changes the stream holds that it has not applied');
    this.lagSeconds = gauge('idv_replication_lag_seconds', 'A replica: seconds since it last held every change of the stream (0 while it does)');
    this.backlog = gauge('idv_replication_backlog_changes', 'A primary: changes applied here that the stream does not hold yet');
    this.epoch = gauge('idv_replication_epoch', 'The term of the primary this instance is or follows (grows by one at each promotion)');
    this.unready = gauge('idv_replication_unready', '1 for the reason this instance says it is not ready (fenced, lagging, build_moved, stream_gap)', ['reason']);
    this.limitCalls = new Counter({ name: 'idv_shared_limits_calls_total', help: 'Calls to the limits every instance shares, by what they did (count: a guessing answer checked or added; report: this instance\'s use and the shares) and outcome (ok, failed)', labelNames: ['op', 'outcome'], registers: [registry] });
    for (const op of ['count', 'report']) for (const outcome of ['ok', 'failed']) this.limitCalls.inc({ op, outcome }, 0);
  }

  /** The series' names. */
  names(): string[] {
    return [this.connected, this.lagChanges, this.lagSeconds, this.backlog, this.epoch, this.unready, this.limitCalls].map((m) => (m as unknown as { name: string }).name);
  }
}
