import { createHash } from 'node:crypto';
import { connect, createServer as createNetServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveConfig, type ServeConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/service/serve.js';
import { afterAll, beforeAll } from 'vitest';
import { fixture, tempIndex, type TempIndex } from './fixtures.js';

export const KEYS = {
  full: 'test-key-full-0123456789',
  verifyOnly: 'test-key-verify-only-0123',
  limited: 'test-key-rate-limited-0123',
  batchNoDemographic: 'test-key-batch-no-demographic',
  consenting: 'test-key-consent-required-0123',
  registrar: 'test-key-registrar-admin-0123',
};

/** Limits no test reaches. */
export const UNLIMITED = { ratePerSecond: 1e9, burst: 1e9, dailyQuota: 1e12, mismatchesPerCitizen: 1e9, emptySearchesPerName: 1e9, emptySearchesPerDate: 1e9, emptySearchesPerHour: 1e9, notFoundPerHour: 1e9, pendingItems: 1e9 };
/** Limits no test reaches, consent optional and scores shown, for the clients whose tests are about none of these. */
const UNHURRIED = { ...UNLIMITED, consentRequired: false, scores: true };

const sha = (key: string) => createHash('sha256').update(key).digest('hex');

export function writeClientsFile(dir: string): string {
  const path = join(dir, 'clients.json');
  writeFileSync(
    path,
    JSON.stringify({
      clients: [
        { id: 'bank-a', keySha256: sha(KEYS.full), scopes: ['verify', 'demographic', 'batch'], ...UNHURRIED },
        { id: 'telco-b', keySha256: sha(KEYS.verifyOnly), scopes: ['verify'], ...UNHURRIED },
        { id: 'batcher-d', keySha256: sha(KEYS.batchNoDemographic), scopes: ['verify', 'batch'], ...UNHURRIED },
        { id: 'portal-c', keySha256: sha(KEYS.limited), scopes: ['verify'], ...UNLIMITED, ratePerSecond: 0.001, burst: 1, consentRequired: false, scores: true },
        { id: 'registrar', keySha256: sha(KEYS.registrar), scopes: ['admin'], ...UNHURRIED },
        { id: 'bank-e', keySha256: sha(KEYS.consenting), scopes: ['verify', 'batch'], ...UNHURRIED, consentRequired: true, scores: false, purposes: ['account-opening', 'kyc-refresh'] },
      ],
    }),
  );
  return path;
}

export interface TestServer {
  url: string;
  port: number;
  service: Service;
  close: () => Promise<void>;
}

/** A real server on a free port, over a real index, with the test clients. */
export async function startTestServer(index: TempIndex, overrides: Partial<ServeConfig> = {}, log?: (event: Record<string, unknown>) => void): Promise<TestServer> {
  const config = serveConfig({
    indexDir: index.indexDir,
    secretFile: index.secretFile,
    clientsFile: writeClientsFile(index.dir),
    host: '127.0.0.1',
    port: 0,
    threads: 1,
    shutdownGraceMs: 2000,
    // A busy test runner must not see 503s from queue-delay shedding; the bench measures shedding under overload.
    shedQueueDelayMs: 60_000,
    ...overrides,
  });
  const service = await startService(config, log);
  const port = service.server.port;
  return { url: `http://127.0.0.1:${port}`, port, service, close: () => service.server.close() };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

export async function call(
  base: string,
  path: string,
  opts: { method?: string; key?: string; body?: unknown; raw?: string | Uint8Array; contentType?: string; accept?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.accept) headers.accept = opts.accept;
  let body: string | Uint8Array | undefined = opts.raw;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  else if (opts.contentType) headers['content-type'] = opts.contentType;
  const res = await fetch(base + path, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body: body as string | undefined });
  const type = res.headers.get('content-type') ?? '';
  const bytes = new Uint8Array(await res.arrayBuffer());
  let parsed: unknown = new TextDecoder().decode(bytes);
  if (type.startsWith('application/json')) parsed = JSON.parse(parsed as string);
  if (type.startsWith('application/msgpack')) parsed = (await import('msgpackr')).unpack(bytes);
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * Sends raw bytes on a fresh socket and returns what the server sent, and whether the
 * server closed the connection (rather than the wait of `waitMs` running out).
 */
export function rawExchange(port: number, chunks: (string | Buffer)[], waitMs = 1500): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, waitMs);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer: true });
    });
    socket.on('error', () => {});
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

/**
 * A server over the fixture citizens for the tests of one file: started before them,
 * closed after. Read `current.server` inside tests.
 */
export function fixtureServer(config: Parameters<typeof startTestServer>[1] = {}): { index: TempIndex; server: TestServer } {
  const current = {} as { index: TempIndex; server: TestServer };
  beforeAll(async () => {
    current.index = await tempIndex({ input: fixture('citizens.ndjson') });
    current.server = await startTestServer(current.index, config);
  });
  afterAll(async () => {
    await current.server.close();
    current.index.remove();
  });
  return current;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
