import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
});
afterAll(() => index.remove());

const POISON = 'Tên Gây Lỗi';

describe('a worker thread dies on a poisoned task', () => {
  it('answers that request 500 INTERNAL with its request id, logs the error and its stack under that id, replaces the worker and goes on', async () => {
    const args = ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir), '--dispatch', 'pool', '--threads', '2'];
    const server = await startCli('serve', args, 20_000, { IDV_FAULT_WORKER_EXIT_ON_NAME: POISON });
    try {
      const verify = (fullName: string) => call(server.url, '/v1/verify', { key: KEYS.full, body: { ...claimOf('001090000101'), fullName } });
      // Three deaths with two workers: without replacements, none would be left for the third round.
      for (let round = 1; round <= 3; round++) {
        const poisoned = await verify(POISON);
        expect(poisoned.status).toBe(500);
        expect(poisoned.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
        const requestId = poisoned.headers.get('x-request-id');
        expect(requestId).toBeTruthy();
        const logged = server.logs().find((l) => l.level === 'error' && l.requestId === requestId);
        expect(logged, JSON.stringify(server.logs())).toBeDefined();
        expect(logged!.frames).toEqual(expect.arrayContaining([expect.stringMatching(/^at /)]));
        expect(JSON.stringify(logged)).not.toContain(POISON);
        // Both workers answer again (one of them new). While the new one starts, the queue-delay
        // shedding may refuse with 503 OVERLOADED and Retry-After: waited out here, as a client would.
        for (let i = 0; i < 10; i++) {
          let r = await verify('Nguyễn Văn An');
          for (let wait = 0; r.status === 503 && r.body.error.code === 'OVERLOADED' && wait < 200; wait++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            r = await verify('Nguyễn Văn An');
          }
          expect(r.body.result, `round ${round}: ${JSON.stringify(r.body)}`).toBe('match');
        }
      }
      const metrics = (await call(server.url, '/metrics')).body as string;
      expect(metrics).toMatch(/idv_errors_total\{code="INTERNAL"\} 3/);
      console.log('workers (2) killed three times by poisoned tasks: each time 500 INTERNAL with x-request-id, the error and its stack logged under that id (no personal data), the next 10 claims answered');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
