import { LiveState } from '../../src/service/liveState.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from 'node:net';
import { serveConfig } from '../../src/config.js';
import { startServer } from '../../src/routes/app.js';
import { ClientRegistry, readClientsFile } from '../../src/clients/clients.js';
import type { Dispatcher } from '../../src/service/dispatch.js';
import { Metrics } from '../../src/service/metrics.js';
import { CandidateRefs } from '../../src/verification/candidateRef.js';
import type { WorkItem, WorkResult } from '../../src/verification/types.js';
import { fixture, tempIndex, type TempIndex, claimOf } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, writeClientsFile, UNLIMITED } from '../helpers/server.js';

let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
});
afterAll(() => index.remove());

/** A server over a dispatcher that fails or stalls on purpose: the faults a real pool can have. */
async function serverWith(dispatcher: Dispatcher) {
  const config = serveConfig({ indexDir: index.indexDir, secretFile: index.secretFile, clientsFile: writeClientsFile(index.dir), port: 0, shutdownGraceMs: 5000 });
  const clients = new ClientRegistry(readClientsFile(config.clientsFile!), UNLIMITED);
  const server = await startServer({ config, dispatcher, clients, metrics: new Metrics(), state: new LiveState(), candidateRefs: new CandidateRefs(index.secret.bytes) });
  return { server, url: `http://127.0.0.1:${server.port}` };
}

describe('faults', () => {
  it('OVERLOADED with Retry-After when the in-flight limit is reached, while health stays up', async () => {
    const test = await startTestServer(index, { maxInFlightItems: 0 });
    try {
      for (const [path, body] of [['/v1/verify', claimOf('001090000101')], ['/v1/verify/batch', { items: [{ type: 'id', ...claimOf('001090000101') }] }]] as const) {
        const reply = await call(test.url, path, { key: KEYS.full, body });
        expect(reply.status).toBe(503);
        expect(reply.body.error.code).toBe('OVERLOADED');
        expect(reply.headers.get('retry-after')).toBe('1');
      }
      expect((await call(test.url, '/readyz')).status).toBe(200);
    } finally {
      await test.close();
    }
  });

  it('admits a batch larger than the in-flight limit when nothing else is in flight', async () => {
    const test = await startTestServer(index, { maxInFlightItems: 1 });
    try {
      const items = [{ type: 'id', ...claimOf('001090000101') }, { type: 'id', ...claimOf('079190000202') }];
      const reply = await call(test.url, '/v1/verify/batch', { key: KEYS.full, body: { items } });
      expect(reply.status).toBe(200);
      expect(reply.body.results.map((r: { result: string }) => r.result)).toEqual(['match', 'match']);
    } finally {
      await test.close();
    }
  });

  it('INTERNAL when the work fails, and the server keeps serving', async () => {
    const failing: Dispatcher = { run: () => Promise.reject(new Error('worker died')), close: async () => {} };
    const { server, url } = await serverWith(failing);
    try {
      const reply = await call(url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') });
      expect(reply.status).toBe(500);
      expect(reply.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
      expect((await call(url, '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('NOT_READY on a kept-alive connection while draining; in-flight requests still finish', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const reached = new Promise<void>((r) => (entered = r));
    const stalling: Dispatcher = {
      run: async (items: WorkItem[]) => {
        entered();
        await held;
        return items.map((): WorkResult => ({ result: 'not_found', fields: {} }));
      },
      close: async () => {},
    };
    const { server, url } = await serverWith(stalling);
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let received = '';
    socket.on('data', (d) => (received += d.toString()));

    const inFlight = call(url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') });
    // Draining starts once the first request is in the work, not after a guessed delay.
    await reached;
    const closing = server.close();
    const body = '{"idNumber":"001090000101"}';
    socket.write(`POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.full}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await vi.waitFor(() => expect(received).toMatch(/\}\}\s*$/), { timeout: 5000, interval: 10 });
    expect(received).toMatch(/^HTTP\/1\.1 503 /);
    expect(received).toContain('"code":"NOT_READY"');
    expect(received.toLowerCase()).toContain('retry-after: 1');
    release();
    expect((await inFlight).body.result).toBe('not_found');
    await closing;
    socket.destroy();
  });
});
