import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PACKAGE_ROOT } from '../../src/packageFiles.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, freePort, KEYS, startTestServer, type TestServer } from '../helpers/server.js';
import { debianTool } from '../helpers/tools.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { snapshotBuild } from '../../src/replication/snapshot.js';

/**
 * The dashboard and the alert rules against a real Prometheus (Debian's `prometheus`,
 * which CI installs) scraping real servers every second: a primary and a replica
 * following it over a real nats-server. After traffic, every expression of the
 * dashboard, and the signal of every alert rule (its expression without the final
 * threshold), parses and returns data; every rule evaluates cleanly.
 */
const GRAFANA = join(PACKAGE_ROOT, 'grafana');
const PROMETHEUS = debianTool('prometheus', 'prometheus', 'the dashboard and alert tests (test/ops/prometheus.test.ts)');
const TOOLS = PROMETHEUS !== undefined && NATS_SERVER !== undefined;
let index: TempIndex;
let server: TestServer;
let replica: TestServer;
let nats: NatsServer;
let prometheus: ChildProcess;
let promUrl: string;
let dir: string;

type Sample = { metric: Record<string, string>; value: [number, string] };
async function query(expr: string): Promise<{ status: string; error?: string; data?: { resultType: string; result: Sample[] } }> {
  const reply = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return reply.json() as never;
}

/** Polls until `done` holds, for at most `ms`: Prometheus scrapes on its own clock. The last value either way. */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  let last!: T;
  await vi.waitFor(async () => expect(done((last = await probe()))).toBe(true), { timeout: ms, interval: 250 }).catch(() => {});
  return last;
}

/** An alert's expression without its threshold: `A > 0.9` → `A`; each side of `and`, `or`, `unless`. */
export function signals(expr: string): string[] {
  return expr
    .split(/\s+(?:and|or|unless)\s+/)
    .map((part) => part.replace(/\s*(?:==|!=|>=|<=|>|<)\s*-?[0-9.]+(?:e[+-]?[0-9]+)?\s*$/i, '').trim());
}

const dashboard = JSON.parse(readFileSync(join(GRAFANA, 'dashboards', 'idv-overview.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
const alertExprs = [...readFileSync(join(GRAFANA, 'alerts.yml'), 'utf8').matchAll(/^\s+- alert: (\S+)\n\s+expr: (.+)$/gm)].map((m) => ({ alert: m[1], expr: m[2] }));

beforeAll(async () => {
  if (!TOOLS) return;
  [index, nats] = await Promise.all([tempIndex({ input: fixture('citizens.ndjson') }), NatsServer.start()]);
  server = await startTestServer(index, { nats: nats.url });
  const replicaDir = join(index.dir, 'replica');
  await snapshotBuild(index.indexDir, replicaDir, index.secret);
  replica = await startTestServer({ ...index, indexDir: replicaDir }, { nats: nats.url, replica: true });
  dir = mkdtempSync(join(tmpdir(), 'idv-prometheus-'));
  // The shipped scrape configuration, pointed at this server and scraping every second.
  const shipped = readFileSync(join(GRAFANA, 'prometheus.yml'), 'utf8');
  const config = shipped
    .replace(/scrape_interval: \S+/, 'scrape_interval: 1s')
    .replace(/evaluation_interval: \S+/, 'evaluation_interval: 1s')
    .replace("'127.0.0.1:8080'", `'127.0.0.1:${server.port}', '127.0.0.1:${replica.port}'`)
    .replace('- alerts.yml', `- ${join(GRAFANA, 'alerts.yml')}`);
  expect(config).toContain(`127.0.0.1:${server.port}`);
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const ready = await until(() => fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false), (ok) => ok, 30_000);
  expect(ready, 'prometheus became ready').toBe(true);
}, 60_000);

afterAll(async () => {
  prometheus?.kill();
  await Promise.all([server?.close(), replica?.close()]);
  await nats?.remove();
  index?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every kind of answer the panels and alerts look at: matches, mismatches, searches, a batch, refusals, register changes. */
async function traffic(round: number): Promise<void> {
  const post = (path: string, body: unknown, key: string = KEYS.full) => call(server.url, path, { key, body });
  await post('/v1/verify', claimOf('001090000101'));
  await post('/v1/verify', { ...claimOf('001090000101'), fullName: 'Trần Văn Bình' });
  await post('/v1/verify', { idNumber: '001090000909', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' });
  await post('/v1/verify/demographic', { fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' });
  await post('/v1/verify/batch', { items: [{ type: 'id', ...claimOf('001090000101') }, { type: 'demographic', fullName: 'Trần Thị Thủy', dateOfBirth: '1990-11-02' }] });
  await post('/v1/verify', { ...claimOf('001090000101'), dateOfBirth: '1990' });
  await post('/v1/verify/demographic', { fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' }, KEYS.verifyOnly);
  await post('/v1/records', { idempotencyKey: `prometheus-${round}`, changes: [{ op: 'reissueCard', idNumber: '001090000101', cardIssueDate: '2026-11-0' + (1 + (round % 9)) }] }, KEYS.registrar);
  await post('/v1/records', { idempotencyKey: `prometheus-bad-${round}`, changes: [{ op: 'deceased', idNumber: '001090000909' }] }, KEYS.registrar);
}

describe.runIf(TOOLS)('the dashboard and the alerts on a real Prometheus', () => {
  it('scrapes the primary and the replica, and loads the alert rules', async () => {
    const up = await until(() => query('sum(up{job="idv"})'), (r) => r.data?.result[0]?.value[1] === '2', 30_000);
    expect(up.data?.result[0]?.value[1]).toBe('2');
    const roles = await until(() => query('max by (role) (idv_replication_role) == 1'), (r) => r.data?.result.length === 2, 30_000);
    expect(roles.data!.result.map((s) => s.metric.role).sort()).toEqual(['primary', 'replica']);
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string }[] }[] } };
    expect(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name)).sort()).toEqual(alertExprs.map((a) => a.alert).sort());
  });

  it('answers every dashboard expression and every alert signal with data, after traffic', async () => {
    expect(panelExprs.length).toBeGreaterThan(15);
    expect(alertExprs.length).toBeGreaterThan(10);
    const exprs = [...panelExprs.map((p) => ({ name: `panel "${p.title}"`, expr: p.expr })), ...alertExprs.flatMap((a) => signals(a.expr).map((expr) => ({ name: `alert ${a.alert}`, expr })))];
    // Rates need two scrapes with traffic between them: traffic goes on until every expression has data, or 45 s.
    let round = 0;
    const pending = new Map(exprs.map((e) => [e.expr, e]));
    const answers = new Map<string, Awaited<ReturnType<typeof query>>>();
    const deadline = Date.now() + 45_000;
    while (pending.size && Date.now() < deadline) {
      await traffic(round++);
      for (const { expr } of [...pending.values()]) {
        const answer = await query(expr);
        answers.set(expr, answer);
        if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`);
        const values = answer.data!.result.map((s) => Number(s.value[1]));
        const finite = values.some((v) => Number.isFinite(v));
        if (values.length && finite) pending.delete(expr);
      }
      if (pending.size) await new Promise((r) => setTimeout(r, 500));
    }
    const missing = [...pending.values()].map((e) => `${e.name}: ${e.expr} → ${JSON.stringify(answers.get(e.expr)?.data?.result ?? null)}`);
    expect(missing).toEqual([]);
    // And every rule, threshold included, evaluated by Prometheus itself without error.
    type Rules = { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const rules = await until(
      async () => ((await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Rules).data.groups.flatMap((g) => g.rules),
      (list) => list.every((r) => r.health !== 'unknown'),
      10_000,
    );
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
    process.stdout.write(`prometheus: ${panelExprs.length} dashboard expressions and ${alertExprs.length} alert rules returned data after ${round} rounds of traffic\n`);
  }, 90_000);

  it('has per-client series, and no label about a citizen or a key', async () => {
    const byClient = await query('sum by (client) (idv_client_requests_total)');
    expect(byClient.data!.result.map((s) => s.metric.client).sort()).toEqual(expect.arrayContaining(['bank-a', 'registrar', 'telco-b']));
    const refused = await query('idv_client_refusals_total{client="telco-b", code="FORBIDDEN"}');
    expect(Number(refused.data!.result[0].value[1])).toBeGreaterThan(0);
    const quota = await query('max(idv_client_quota_used_ratio{client="bank-a"})');
    expect(Number(quota.data!.result[0].value[1])).toBeGreaterThan(0);
    const series = await (await fetch(`${promUrl}/api/v1/series?match[]=${encodeURIComponent('{__name__=~"idv_.+"}')}`)).text();
    expect(series).toContain('idv_client_requests_total');
    for (const personal of ['001090000101', 'Nguy', '1990-05-17', KEYS.full]) expect(series).not.toContain(personal);
  });
});

describe('alert expressions', () => {
  it('splits an alert expression into its signals', () => {
    expect(signals('up{job="idv"} == 0')).toEqual(['up{job="idv"}']);
    expect(signals('sum(rate(a[5m])) / sum(rate(b[5m])) > 0.001')).toEqual(['sum(rate(a[5m])) / sum(rate(b[5m]))']);
    expect(signals('sum(rate(x{o="r"}[15m])) > 0 and sum(rate(x{o="a"}[15m])) == 0')).toEqual(['sum(rate(x{o="r"}[15m]))', 'sum(rate(x{o="a"}[15m]))']);
  });
});
